/**
 * Training targets of Mask R-CNN (and of each Cascade stage), per image, as mmdetection 2.x computes them:
 * - RPN (`AnchorHead.get_targets`): anchors assigned (0.7 / 0.3, low-quality matches ≥ 0.3) and
 *   sampled (256, half positives); objectness target 1 on positives, weight 1 on every sampled
 *   anchor; box deltas of the positives (RPN coder), weight 1.
 * - RCNN (`BBoxHead.get_targets`): proposals with the ground truths prepended, assigned (0.5) and
 *   sampled (512, a quarter positives); RoIs = positives then negatives; class label of each
 *   positive, background for negatives; deltas of the positives (RCNN coder).
 * - masks (`mask_target`): each positive's ground-truth mask cropped to its box (clipped to the
 *   mask) and resized to 28 × 28 by RoIAlign (aligned, adaptive sampling), then ≥ 0.5.
 */
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { roiAlignForward } from '../../core/det/roi-align-host.js';
import type { TrainRng } from '../../data/rng.js';
import { type AssignerOptions, maxIouAssign, randomSample, type SamplerOptions } from './assign.js';
import { encodeBoxes } from '../../core/det/coder-host.js';
import { takeRows } from './boxes.js';
import type { GtInstances } from '../../data/instances.js';

export type { GtInstances } from '../../data/instances.js';


export interface RpnTargets {
  /** Per anchor: objectness target (1 positive, 0 otherwise). */
  labels: Float32Array;
  /** Per anchor: 1 when sampled. */
  labelWeights: Float32Array;
  /** [A·4] deltas (0 except positives). */
  bboxTargets: Float32Array;
  /** [A·4] 1 on positive rows. */
  bboxWeights: Float32Array;
  numPos: number;
  numNeg: number;
}

/** RPN targets of one image over all anchors [A·4] (every anchor valid: mmdet `allowed_border=-1`). */
export function rpnTargets(anchors: Float32Array, gt: GtInstances, assigner: AssignerOptions, sampler: SamplerOptions, coder: BoxCoderOptions, rng: TrainRng): RpnTargets {
  const n = anchors.length / 4;
  const a = maxIouAssign(anchors, gt.boxes, assigner);
  const s = randomSample(a, anchors, gt.boxes, { ...sampler, addGtAsProposals: false }, rng);
  const labels = new Float32Array(n);
  const labelWeights = new Float32Array(n);
  const bboxTargets = new Float32Array(4 * n);
  const bboxWeights = new Float32Array(4 * n);
  const deltas = encodeBoxes(takeRows(anchors, s.posInds, 4), takeRows(gt.boxes, s.posGtInds, 4), coder);
  s.posInds.forEach((i, k) => {
    labels[i] = 1;
    labelWeights[i] = 1;
    bboxTargets.set(deltas.subarray(4 * k, 4 * k + 4), 4 * i);
    bboxWeights.fill(1, 4 * i, 4 * i + 4);
  });
  for (const i of s.negInds) labelWeights[i] = 1;
  return { labels, labelWeights, bboxTargets, bboxWeights, numPos: s.posInds.length, numNeg: s.negInds.length };
}

export interface RcnnTargets {
  /** [R·4] sampled RoIs: positives, then negatives. */
  rois: Float32Array;
  numPos: number;
  /** [R] class of each RoI: 0-based foreground class, or −1 for background. */
  labels: Int32Array;
  /** [numPos·4] deltas of the positives (RCNN coder). */
  bboxTargets: Float32Array;
  /** [numPos] ground-truth index of each positive. */
  posGtInds: Int32Array;
  /** [numPos] 1 where the positive is an added ground truth. */
  posIsGt: Uint8Array;
}

/** RCNN sampling and box targets of one image (proposals [P·4]). */
export function rcnnTargets(proposals: Float32Array, gt: GtInstances, assigner: AssignerOptions, sampler: SamplerOptions, coder: BoxCoderOptions, rng: TrainRng): RcnnTargets {
  const a = maxIouAssign(proposals, gt.boxes, assigner);
  const s = randomSample(a, proposals, gt.boxes, sampler, rng);
  const order = Int32Array.from([...s.posInds, ...s.negInds]);
  const rois = takeRows(s.boxes, order, 4);
  const numPos = s.posInds.length;
  const labels = new Int32Array(order.length).fill(-1);
  for (let k = 0; k < numPos; k++) labels[k] = gt.labels[s.posGtInds[k]];
  const bboxTargets = encodeBoxes(rois.subarray(0, 4 * numPos), takeRows(gt.boxes, s.posGtInds, 4), coder);
  return { rois, numPos, labels, bboxTargets, posGtInds: s.posGtInds, posIsGt: Uint8Array.from(s.posInds, (i) => s.gtFlags[i]) };
}

/**
 * Mask targets [P·size·size] (0/1 floats) of the positive RoIs [P·4]: ground-truth mask `gtInds[p]`
 * sampled by RoIAlign (scale 1, aligned, adaptive sampling) over the box clipped to the mask's
 * extent, binarised at 0.5 (mmdet `BitmapMasks.crop_and_resize(binarize=True)`).
 */
export function maskTargets(rois: Float32Array, gtInds: Int32Array, gt: GtInstances, size = 28): Float32Array {
  const p = gtInds.length;
  const out = new Float32Array(p * size * size);
  const { maskHeight: h, maskWidth: w } = gt;
  for (let k = 0; k < p; k++) {
    const box = Float32Array.from([
      Math.min(Math.max(rois[4 * k], 0), w), Math.min(Math.max(rois[4 * k + 1], 0), h),
      Math.min(Math.max(rois[4 * k + 2], 0), w), Math.min(Math.max(rois[4 * k + 3], 0), h),
    ]);
    const sampled = roiAlignForward([{ data: gt.masks[gtInds[k]], h, w, c: 1 }], [1], box, [0], { output: size, samplingRatio: 0, aligned: true });
    for (let b = 0; b < size * size; b++) out[k * size * size + b] = sampled[b] >= 0.5 ? 1 : 0;
  }
  return out;
}
