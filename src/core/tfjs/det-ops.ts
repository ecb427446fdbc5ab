/**
 * The detection ops on TensorFlow.js. Tables are plain tensors; index vectors are int32 tensors.
 * Data-dependent steps (nonzero, NMS, anchor grids) read their inputs on the host and return
 * constants; gather stays a tfjs op, and RoIAlign runs on the host with its own gradient
 * (./roi-align.ts), so gradients reach the features through both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnchorGridSpec, DetOps, PerImageBody, PerImageResult, RoiAlignSpec } from '../det-ops.js';
import { TfjsOps } from './ops.js';
import { batchedNmsHost } from '../det/nms.js';
import { gridAnchorsHost } from '../det/anchors.js';
import { roiAlignTfjs } from './roi-align.js';
import { pasteMask } from '../det/paste.js';

export class TfjsDetOps extends TfjsOps implements DetOps<tf.Tensor> {
  mapToRows(x: tf.Tensor, k: number): tf.Tensor {
    return tf.reshape(x, [-1, k]);
  }

  spatialSize(x: tf.Tensor): tf.Tensor {
    return tf.tensor1d([x.shape[1] as number, x.shape[2] as number]);
  }

  flatten(x: tf.Tensor): tf.Tensor {
    const [n, h, w, c] = x.shape as number[];
    // The wasm backend's Transpose and reductions trap on empty tensors (no RoIs): shape-only path.
    if (n === 0) return tf.zeros([0, c * h * w]);
    return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n, -1]);
  }

  reshape(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
    return tf.reshape(x, [...shape]);
  }

  columns(x: tf.Tensor, start: number, end: number): tf.Tensor {
    return tf.slice(x, [0, start], [-1, end - start]);
  }

  column(x: tf.Tensor, i: number): tf.Tensor {
    return tf.reshape(tf.slice(x, [0, i], [-1, 1]), [-1]);
  }

  stackColumns(xs: readonly tf.Tensor[]): tf.Tensor {
    return tf.stack([...xs], 1);
  }

  columnMax(x: tf.Tensor): tf.Tensor {
    return tf.max(x, 0);
  }

  pasteMasks(masks: tf.Tensor, boxes: tf.Tensor, size: tf.Tensor, thr: number, image: tf.Tensor = size): tf.Tensor {
    // On the host, with the reference paste: masks are NHWC [D, m, m, 1], i.e. [D, m, m] row-major.
    const [d, m] = masks.shape as number[];
    const [h, w] = Array.from(size.dataSync());
    const [ih, iw] = Array.from(image.dataSync()).map((v, i) => Math.min(v, i === 0 ? h : w));
    const probs = masks.dataSync() as Float32Array;
    const b = boxes.dataSync();
    const out = new Float32Array(d * h * w);
    for (let k = 0; k < d; k++) {
      const r = pasteMask('grid_sample', probs.subarray(k * m * m, (k + 1) * m * m), m, Array.from(b.subarray(4 * k, 4 * k + 4)), ih, iw, thr);
      for (let j = 0; j < r.height; j++) {
        for (let i = 0; i < r.width; i++) out[(k * h + r.y0 + j) * w + r.x0 + i] = r.data[j * r.width + i];
      }
    }
    return tf.tensor4d(out, [d, 1, h, w]);
  }

  concatRows(xs: readonly tf.Tensor[]): tf.Tensor {
    return xs.length === 1 ? xs[0] : tf.concat([...xs], 0);
  }

  repeatRows(x: tf.Tensor, n: number): tf.Tensor {
    const k = x.shape[1] as number;
    return tf.reshape(tf.tile(tf.expandDims(x, 1), [1, n, 1]), [-1, k]);
  }

  element(x: tf.Tensor, i: number): tf.Tensor {
    return tf.slice(x, [i], [1]);
  }

  gather(x: tf.Tensor, indices: tf.Tensor): tf.Tensor {
    // tfjs returns a wrongly shaped tensor when gathering from an empty tensor.
    if (indices.size === 0) return tf.zeros([0, ...x.shape.slice(1)]);
    return tf.gather(x, indices, 0);
  }

  selectChannel(x: tf.Tensor, index: tf.Tensor): tf.Tensor {
    // One-hot weighted sum over channels: exact (one term is x, the others are 0) and differentiable.
    // (The wasm OneHot kernel writes float32 one-hots as integer bit patterns: build int32, then cast.)
    const [n, h, w, c] = x.shape as number[];
    if (n === 0) return tf.zeros([0, h, w, 1]);
    const hot = tf.reshape(tf.cast(tf.oneHot(tf.cast(index, 'int32'), c), 'float32'), [-1, 1, 1, c]);
    return tf.sum(tf.mul(x, hot), 3, true);
  }

  columnIndex(x: tf.Tensor): tf.Tensor {
    const [r, c] = x.shape as [number, number];
    return tf.tile(tf.reshape(tf.range(0, c, 1, 'float32'), [1, c]), [r, 1]);
  }

  argmaxColumns(x: tf.Tensor): tf.Tensor {
    if (x.shape[0] === 0) return tf.zeros([0]);
    return tf.cast(tf.argMax(x, 1), 'float32');
  }

  pickGroups(x: tf.Tensor, index: tf.Tensor, k: number): tf.Tensor {
    const [r, width] = x.shape as [number, number];
    if (r === 0) return tf.zeros([0, k]);
    const groups = width / k;
    // One-hot weighted sum over the groups: exact and differentiable (built as int32, then cast: see selectChannel).
    const hot = tf.reshape(tf.cast(tf.oneHot(tf.cast(index, 'int32'), groups), 'float32'), [r, groups, 1]);
    return tf.sum(tf.mul(tf.reshape(x, [r, groups, k]), hot), 1);
  }

  divScalar(x: tf.Tensor, s: number): tf.Tensor {
    return tf.div(x, s);
  }

  exp(x: tf.Tensor): tf.Tensor {
    return tf.exp(x);
  }

  log(x: tf.Tensor): tf.Tensor {
    return tf.log(x);
  }

  floor(x: tf.Tensor): tf.Tensor {
    return tf.floor(x);
  }

  clamp(x: tf.Tensor, lo?: number, hi?: number): tf.Tensor {
    let y = x;
    if (lo !== undefined) y = tf.maximum(y, lo);
    if (hi !== undefined) y = tf.minimum(y, hi);
    return y;
  }

  minimum(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.minimum(a, b);
  }

  maximum(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.maximum(a, b);
  }

  greaterScalar(x: tf.Tensor, s: number, orEqual = false): tf.Tensor {
    return orEqual ? tf.greaterEqual(x, s) : tf.greater(x, s);
  }

  and(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.logicalAnd(a, b);
  }

  nonzero(mask: tf.Tensor): tf.Tensor {
    const m = mask.dataSync();
    const idx: number[] = [];
    for (let i = 0; i < m.length; i++) if (m[i]) idx.push(i);
    return tf.tensor1d(idx, 'int32');
  }

  topK(x: tf.Tensor, k: number): { values: tf.Tensor; indices: tf.Tensor } {
    const n = x.shape[0] as number;
    const kk = Math.min(k, n);
    if (kk === 0) return { values: tf.zeros([0]), indices: tf.tensor1d([], 'int32') };
    const { values, indices } = tf.topk(x, kk, true);
    return { values, indices };
  }

  batchedNms(boxes: tf.Tensor, scores: tf.Tensor, groups: tf.Tensor, _numGroups: number, iouThr: number, maxOut: number): tf.Tensor {
    const keep = batchedNmsHost(boxes.dataSync() as Float32Array, scores.dataSync(), groups.dataSync(), iouThr, maxOut);
    return tf.tensor1d(keep, 'int32');
  }

  gridAnchors(feature: tf.Tensor, image: tf.Tensor, spec: AnchorGridSpec): tf.Tensor {
    const [, h, w] = feature.shape as number[];
    const [, inH, inW] = image.shape as number[];
    const data = gridAnchorsHost(spec, h, w, inH, inW);
    return tf.tensor2d(data, [data.length / 4, 4]);
  }

  roiAlign(features: readonly tf.Tensor[], rois: tf.Tensor, levels: tf.Tensor, spec: RoiAlignSpec): tf.Tensor {
    return roiAlignTfjs(features, rois.dataSync(), levels.dataSync(), spec.scales, spec);
  }

  perImage(maps: readonly tf.Tensor[], rows: readonly tf.Tensor[], body: PerImageBody<tf.Tensor>, padRows: Readonly<Record<string, number>>): PerImageResult<tf.Tensor> {
    const first = maps[0] ?? rows[0];
    if (first === undefined) throw new Error('perImage: no batched input');
    const names = Object.keys(padRows);
    const parts: Record<string, tf.Tensor[]> = Object.fromEntries(names.map((k) => [k, []]));
    const counts: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
    for (let i = 0; i < (first.shape[0] as number); i++) {
      const m = maps.map((x) => tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]));
      const r = rows.map((x) => tf.reshape(tf.slice(x, [i, 0], [1, -1]), [-1]));
      const out = body(this, m, r);
      for (const name of Object.keys(out)) if (!(name in padRows)) throw new Error(`perImage: output '${name}' has no row count`);
      for (const name of names) {
        const v = out[name];
        if (v === undefined) throw new Error(`perImage: the body did not produce '${name}'`);
        const k = padRows[name];
        const n = Math.min(v.shape[0] as number, k);
        const rest = v.shape.slice(1);
        // Empty tensors trap in some wasm kernels: build the padded rows from their parts.
        const kept = n === 0 ? null : n < (v.shape[0] as number) ? tf.slice(v, 0, n) : v;
        const pad = n === k ? null : tf.zeros([k - n, ...rest]);
        parts[name].push(kept && pad ? tf.concat([kept, pad], 0) : (kept ?? (pad as tf.Tensor)));
        counts[name].push(n);
      }
    }
    return {
      outputs: Object.fromEntries(names.map((k) => [k, tf.stack(parts[k], 0)])),
      counts: Object.fromEntries(names.map((k) => [k, tf.tensor1d(counts[k])])),
    };
  }
}
