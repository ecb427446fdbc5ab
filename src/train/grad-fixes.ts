/**
 * Correct gradients for three TensorFlow.js kernels whose own gradients are wrong on a backend
 * training runs on (found by the loss-gradient tests against PyTorch):
 * - ResizeBilinear: tfjs's gradient kernels ignore `halfPixelCenters` (the wasm kernel takes only
 *   `alignCorners`; the cpu kernel also mixes up height and width for non-square maps), so a
 *   PyTorch-style resize (align_corners=False, half-pixel centres in tfjs) gets a wrong gradient;
 * - ResizeNearestNeighbor: the cpu backend's gradient kernel is wrong (FPN's top-down path);
 * - MaxPool: the wasm backend's gradient kernel is wrong for kernel 1, stride 2 (FPN's extra level).
 * Each replacement scatters the output gradient back on the host with the forward's own sampling
 * (bilinear: source = (dst + ½)·in/out − ½ clamped at 0, PyTorch's `area_pixel_compute_source_index`;
 * nearest: floor(dst·in/out); max pool: the first maximum of each window). Installed by
 * {@link installTrainGradients}.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Source indices and weights of each destination index along one axis. */
function axis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    let src = halfPixel && !alignCorners ? Math.max((d + 0.5) * scale - 0.5, 0) : d * scale;
    src = Math.min(src, inSize - 1);
    const lo = Math.floor(src);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = src - lo;
  }
  return { i0, i1, w1 };
}

/** dL/dimages [N, H, W, C] of a bilinear resize given dL/doutput `dy` [N, h, w, C]. */
export function resizeBilinearBackward(dy: tf.Tensor, imageShape: readonly number[], alignCorners: boolean, halfPixel: boolean): tf.Tensor {
  const [n, inH, inW, c] = imageShape;
  const [, h, w] = dy.shape as number[];
  const ay = axis(inH, h, alignCorners, halfPixel);
  const ax = axis(inW, w, alignCorners, halfPixel);
  const d = dy.dataSync();
  const g = new Float32Array(n * inH * inW * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const wy1 = ay.w1[y];
      const wy0 = 1 - wy1;
      const r0 = (b * inH + ay.i0[y]) * inW;
      const r1 = (b * inH + ay.i1[y]) * inW;
      for (let x = 0; x < w; x++) {
        const wx1 = ax.w1[x];
        const wx0 = 1 - wx1;
        const src = ((b * h + y) * w + x) * c;
        const p00 = (r0 + ax.i0[x]) * c;
        const p01 = (r0 + ax.i1[x]) * c;
        const p10 = (r1 + ax.i0[x]) * c;
        const p11 = (r1 + ax.i1[x]) * c;
        const a = wy0 * wx0;
        const bb = wy0 * wx1;
        const cc = wy1 * wx0;
        const dd = wy1 * wx1;
        for (let k = 0; k < c; k++) {
          const v = d[src + k];
          g[p00 + k] += a * v;
          g[p01 + k] += bb * v;
          g[p10 + k] += cc * v;
          g[p11 + k] += dd * v;
        }
      }
    }
  }
  return tf.tensor4d(g, [n, inH, inW, c]);
}

/** Source index of each destination index of a nearest-neighbour resize (tfjs's forward rule). */
function nearestAxis(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): Int32Array {
  const out = new Int32Array(outSize);
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = halfPixel ? (d + 0.5) * scale : d * scale;
    out[d] = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
  }
  return out;
}

/** dL/dimages [N, H, W, C] of a nearest-neighbour resize given `dy` [N, h, w, C]. */
export function resizeNearestBackward(dy: tf.Tensor, imageShape: readonly number[], alignCorners: boolean, halfPixel: boolean): tf.Tensor {
  const [n, inH, inW, c] = imageShape;
  const [, h, w] = dy.shape as number[];
  const sy = nearestAxis(inH, h, alignCorners, halfPixel);
  const sx = nearestAxis(inW, w, alignCorners, halfPixel);
  const d = dy.dataSync();
  const g = new Float32Array(n * inH * inW * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((b * h + y) * w + x) * c;
        const dst = ((b * inH + sy[y]) * inW + sx[x]) * c;
        for (let k = 0; k < c; k++) g[dst + k] += d[src + k];
      }
    }
  }
  return tf.tensor4d(g, [n, inH, inW, c]);
}

/** dL/dx [N, H, W, C] of a 'valid' max pool (first maximum of each window wins, as tfjs and PyTorch). */
export function maxPoolBackward(dy: tf.Tensor, x: tf.Tensor, filter: readonly [number, number], strides: readonly [number, number]): tf.Tensor {
  const [n, inH, inW, c] = x.shape as number[];
  const [, h, w] = dy.shape as number[];
  const xv = x.dataSync();
  const d = dy.dataSync();
  const g = new Float32Array(xv.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let xo = 0; xo < w; xo++) {
        for (let k = 0; k < c; k++) {
          let best = -Infinity;
          let at = -1;
          for (let fy = 0; fy < filter[0]; fy++) {
            const iy = y * strides[0] + fy;
            if (iy >= inH) break;
            for (let fx = 0; fx < filter[1]; fx++) {
              const ix = xo * strides[1] + fx;
              if (ix >= inW) break;
              const i = ((b * inH + iy) * inW + ix) * c + k;
              if (xv[i] > best || at < 0) {
                best = xv[i];
                at = i;
              }
            }
          }
          if (at >= 0) g[at] += d[((b * h + y) * w + xo) * c + k];
        }
      }
    }
  }
  return tf.tensor4d(g, [n, inH, inW, c]);
}

function pair(v: number | readonly number[]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]];
}

let installed = false;

/**
 * Replaces tfjs's ResizeBilinear, ResizeNearestNeighbor and MaxPool gradients (see the module
 * comment). Call after `prepareTraining()` (which registers tfjs's own gradients); idempotent.
 * Max pools with padding other than 'valid' keep tfjs's gradient.
 */
export function installTrainGradients(): void {
  if (installed) return;
  tf.registerGradient({
    kernelName: tf.ResizeBilinear,
    inputsToSave: ['images'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [images] = saved;
      const a = attrs as unknown as { alignCorners: boolean; halfPixelCenters: boolean };
      return { images: () => resizeBilinearBackward(dy as tf.Tensor, images.shape, a.alignCorners, a.halfPixelCenters) };
    },
  });
  tf.registerGradient({
    kernelName: tf.ResizeNearestNeighbor,
    inputsToSave: ['images'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [images] = saved;
      const a = attrs as unknown as { alignCorners: boolean; halfPixelCenters: boolean };
      return { images: () => resizeNearestBackward(dy as tf.Tensor, images.shape, a.alignCorners, a.halfPixelCenters) };
    },
  });
  const tfjsMaxPool = tf.getGradient(tf.MaxPool);
  tf.registerGradient({
    kernelName: tf.MaxPool,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const a = attrs as unknown as { filterSize: number | number[]; strides: number | number[]; pad: unknown };
      if (a.pad !== 'valid' && a.pad !== 0 && tfjsMaxPool) return tfjsMaxPool.gradFunc(dy, saved, attrs);
      const [x] = saved;
      return { x: () => maxPoolBackward(dy as tf.Tensor, x, pair(a.filterSize), pair(a.strides)) };
    },
  });
  installed = true;
}
