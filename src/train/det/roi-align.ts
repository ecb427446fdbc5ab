/**
 * Multi-level RoIAlign for training, computed on the host in both directions: the sampling plan
 * of src/heads/roi/roi-align-plan.ts (torchvision / mmcv semantics), applied to the features'
 * values with the zero-weight padding skipped, and its transpose for the gradient. Same values as
 * the engine's `roiAlign` (DetOps) but without materialising a [bins × k × C] gather, which on the
 * wasm backend costs more than the rest of a small detector's step when RoIs are large
 * (adaptive sampling makes k grow with the RoI size).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RoiAlignSpec } from '../../core/det-ops.js';
import { roiAlignPlan } from '../../core/det/roi-align-plan.js';

/** Sparse rows: bin b reads cells index[start[b] … start[b + 1]) with those weights. */
interface SparsePlan {
  start: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

function planFor(boxes: Float32Array, levels: ArrayLike<number>, sizes: ReadonlyArray<readonly [number, number]>, spec: RoiAlignSpec): SparsePlan {
  const r = boxes.length / 4;
  const bins = spec.output * spec.output;
  const perRoi: Array<{ index: number[]; weight: number[]; start: number[] }> = new Array(r);
  let offset = 0;
  sizes.forEach(([h, w], l) => {
    const members: number[] = [];
    for (let i = 0; i < r; i++) if (levels[i] === l) members.push(i);
    if (members.length > 0) {
      const sub = new Float32Array(4 * members.length);
      members.forEach((m, j) => sub.set(boxes.subarray(4 * m, 4 * m + 4), 4 * j));
      const p = roiAlignPlan(sub, h, w, { output: spec.output, scale: spec.scales[l], samplingRatio: spec.samplingRatio, aligned: spec.aligned });
      members.forEach((m, j) => {
        const index: number[] = [];
        const weight: number[] = [];
        const start: number[] = [];
        for (let b = 0; b < bins; b++) {
          start.push(index.length);
          const base = (j * bins + b) * p.k;
          for (let q = 0; q < p.k; q++) {
            const wt = p.weight[base + q];
            if (wt !== 0) {
              index.push(p.index[base + q] + offset);
              weight.push(wt);
            }
          }
        }
        perRoi[m] = { index, weight, start };
      });
    }
    offset += h * w;
  });
  const start = new Int32Array(r * bins + 1);
  let n = 0;
  for (const p of perRoi) n += p.index.length;
  const index = new Int32Array(n);
  const weight = new Float32Array(n);
  let k = 0;
  perRoi.forEach((p, i) => {
    for (let b = 0; b < bins; b++) start[i * bins + b] = k + p.start[b];
    index.set(p.index, k);
    weight.set(p.weight, k);
    k += p.index.length;
  });
  start[r * bins] = n;
  return { start, index, weight };
}

/**
 * RoI r of `rois` [R·4] (input-image coordinates) pooled from `features[levels[r]]` (NHWC maps of
 * one image) → [R, o, o, C] (NHWC), differentiable with respect to the features.
 */
export function roiAlignHost(features: readonly tf.Tensor[], rois: Float32Array, levels: ArrayLike<number>, spec: RoiAlignSpec): tf.Tensor {
  const r = rois.length / 4;
  const c = features[0].shape[3] as number;
  const o = spec.output;
  if (r === 0) return tf.zeros([0, o, o, c]);
  const sizes = features.map((f) => [f.shape[1] as number, f.shape[2] as number] as const);
  const plan = planFor(rois, levels, sizes, spec);
  const flat = tf.concat(features.map((f) => tf.reshape(f, [-1, c])), 0);
  const rows = flat.shape[0] as number;
  const numBins = r * o * o;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = (inputs[0] as tf.Tensor).dataSync();
    const out = new Float32Array(numBins * c);
    for (let b = 0; b < numBins; b++) {
      const dst = b * c;
      for (let q = plan.start[b]; q < plan.start[b + 1]; q++) {
        const wt = plan.weight[q];
        const src = plan.index[q] * c;
        for (let ch = 0; ch < c; ch++) out[dst + ch] += wt * x[src + ch];
      }
    }
    const gradFunc = (dy: tf.Tensor) => {
      const d = dy.dataSync();
      const g = new Float32Array(rows * c);
      for (let b = 0; b < numBins; b++) {
        const src = b * c;
        for (let q = plan.start[b]; q < plan.start[b + 1]; q++) {
          const wt = plan.weight[q];
          const dst = plan.index[q] * c;
          for (let ch = 0; ch < c; ch++) g[dst + ch] += wt * d[src + ch];
        }
      }
      return tf.tensor2d(g, [rows, c]);
    };
    return { value: tf.tensor4d(out, [r, o, o, c]), gradFunc };
  });
  return op(flat);
}
