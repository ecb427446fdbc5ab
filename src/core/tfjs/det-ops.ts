/**
 * The detection ops on TensorFlow.js. Tables are plain tensors; index vectors are int32 tensors.
 * Data-dependent steps (nonzero, NMS, anchor grids, RoIAlign sampling plans) read their inputs on
 * the host and return constants; the value paths (gather, weighted sums of features) stay tfjs
 * ops, so gradients reach the features through RoIAlign and gather.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnchorGridSpec, DetOps, RoiAlignSpec } from '../det-ops.js';
import type { HostTensor } from '../host-tensor.js';
import { TfjsOps } from './ops.js';
import { toHost } from './runner.js';
import { batchedNmsHost } from '../det/nms.js';
import { gridAnchorsHost } from '../det/anchors.js';
import { type RoiAlignPlan, roiAlignPlan } from '../det/roi-align-plan.js';

/** Largest number of gathered feature values per RoIAlign chunk (bounds memory). */
const ROI_CHUNK_VALUES = 1 << 24;

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
    const r = rois.shape[0] as number;
    const c = features[0].shape[3] as number;
    const o = spec.output;
    if (r === 0) return tf.zeros([0, o, o, c]);
    const plan = multiLevelPlan(rois.dataSync() as Float32Array, levels.dataSync(), features.map((f) => [f.shape[1] as number, f.shape[2] as number]), spec);
    const flat = tf.concat(features.map((f) => tf.reshape(f, [-1, c])), 0);
    return pooled(flat, plan, [r, o, o, c]);
  }
}

/** A sampling plan over the levels' cells stacked in one [Σ H·W, C] table, bins in RoI order. */
function multiLevelPlan(boxes: Float32Array, lv: ArrayLike<number>, sizes: Array<[number, number]>, spec: RoiAlignSpec): RoiAlignPlan {
  const r = boxes.length / 4;
  const bins = spec.output * spec.output;
  const perLevel = sizes.map(([h, w], l) => {
    const members: number[] = [];
    for (let i = 0; i < r; i++) if (lv[i] === l) members.push(i);
    const plan = members.length ? roiAlignPlan(pick(boxes, members), h, w, { output: spec.output, scale: spec.scales[l], samplingRatio: spec.samplingRatio, aligned: spec.aligned }) : null;
    return { members, plan };
  });
  const k = Math.max(1, ...perLevel.map((p) => p.plan?.k ?? 1));
  const index = new Int32Array(r * bins * k);
  const weight = new Float32Array(r * bins * k);
  let offset = 0;
  perLevel.forEach(({ members, plan }, l) => {
    if (plan) {
      members.forEach((roi, m) => {
        for (let b = 0; b < bins; b++) {
          const src = (m * bins + b) * plan.k;
          const dst = (roi * bins + b) * k;
          for (let j = 0; j < plan.k; j++) {
            index[dst + j] = plan.index[src + j] + offset;
            weight[dst + j] = plan.weight[src + j];
          }
        }
      });
    }
    offset += sizes[l][0] * sizes[l][1];
  });
  return { numBins: r * bins, k, index, weight };
}

/**
 * Applies a plan: out[bin] = Σ_j weight[bin, j] · flat[index[bin, j]], in chunks of bins (bounded
 * memory), reshaped to `shape`. The gradient with respect to `flat` is the transposed plan,
 * scattered on the host (tfjs's gather gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
function pooled(flat: tf.Tensor, plan: RoiAlignPlan, shape: number[]): tf.Tensor {
  const c = flat.shape[1] as number;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = inputs[0] as tf.Tensor;
    const value = tf.tidy(() => {
      const step = Math.max(1, Math.floor(ROI_CHUNK_VALUES / (plan.k * c)));
      const parts: tf.Tensor[] = [];
      for (let b0 = 0; b0 < plan.numBins; b0 += step) {
        const nb = Math.min(step, plan.numBins - b0);
        const idx = tf.tensor1d(plan.index.subarray(b0 * plan.k, (b0 + nb) * plan.k), 'int32');
        const wt = tf.tensor3d(plan.weight.subarray(b0 * plan.k, (b0 + nb) * plan.k), [nb, plan.k, 1]);
        parts.push(tf.sum(tf.mul(tf.reshape(tf.gather(x, idx, 0), [nb, plan.k, c]), wt), 1));
      }
      return tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 0), shape);
    });
    const gradFunc = (dy: tf.Tensor) => {
      const g = new Float32Array(flat.size);
      const d = dy.dataSync();
      for (let b = 0; b < plan.numBins; b++) {
        for (let j = 0; j < plan.k; j++) {
          const wt = plan.weight[b * plan.k + j];
          if (wt === 0) continue;
          const dst = plan.index[b * plan.k + j] * c;
          for (let ch = 0; ch < c; ch++) g[dst + ch] += wt * d[b * c + ch];
        }
      }
      return tf.tensor2d(g, [flat.shape[0] as number, c]);
    };
    return { value, gradFunc };
  });
  return op(flat);
}

/**
 * A tfjs tensor (NHWC or table) → host tensor (NCHW or table), empty tensors included (the wasm
 * backend's Transpose traps on them). Does not dispose `x`.
 */
export async function detToHost(x: tf.Tensor): Promise<HostTensor> {
  if (x.size === 0) {
    const s = [...x.shape];
    return { shape: x.rank === 4 ? [s[0], s[3], s[1], s[2]] : s, data: new Float32Array(0) };
  }
  return toHost(x);
}

function pick(boxes: Float32Array, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * 4);
  rows.forEach((r, i) => out.set(boxes.subarray(4 * r, 4 * r + 4), 4 * i));
  return out;
}
