/**
 * Target assignment and sampling as mmdetection 2.x: `MaxIoUAssigner` (negatives below
 * `negIouThr`, positives at or above `posIouThr`, then each ground truth's best-matching boxes made
 * positive when their IoU reaches `minPosIou`, all ties included) and `RandomSampler` (at most
 * `num · posFraction` positives chosen at random, negatives fill the rest of `num`, ground truths
 * optionally prepended as proposals). Everything runs on the host with a seeded generator.
 */
import type { TrainRng } from '../../data/rng.js';
import { iouMatrix } from './boxes.js';

export interface AssignerOptions {
  posIouThr: number;
  negIouThr: number;
  minPosIou: number;
  /** Give each ground truth its best-matching boxes (when ≥ minPosIou), overriding step 3. */
  matchLowQuality: boolean;
}

/** Per box: −1 ignored, 0 negative, i + 1 assigned to ground truth i; and its best IoU. */
export interface Assignment {
  numGts: number;
  gtInds: Int32Array;
  maxOverlaps: Float32Array;
}

/** Assigns `boxes` [N·4] to `gts` [G·4] (mmdetection `MaxIoUAssigner.assign`). */
export function maxIouAssign(boxes: Float32Array, gts: Float32Array, o: AssignerOptions): Assignment {
  const n = boxes.length / 4;
  const g = gts.length / 4;
  const gtInds = new Int32Array(n).fill(-1);
  const maxOverlaps = new Float32Array(n);
  if (g === 0 || n === 0) {
    if (g === 0) gtInds.fill(0);
    return { numGts: g, gtInds, maxOverlaps };
  }
  const ov = iouMatrix(gts, boxes);
  return assignWrtOverlaps(ov, g, n, o);
}

/** Step 1–4 of `assign_wrt_overlaps` on a row-major [G, N] overlap matrix (first index wins ties). */
export function assignWrtOverlaps(ov: Float32Array, g: number, n: number, o: AssignerOptions): Assignment {
  const gtInds = new Int32Array(n).fill(-1);
  const maxOverlaps = new Float32Array(n);
  const argmax = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let best = ov[j];
    let bi = 0;
    for (let i = 1; i < g; i++) {
      const v = ov[i * n + j];
      if (v > best) {
        best = v;
        bi = i;
      }
    }
    maxOverlaps[j] = best;
    argmax[j] = bi;
    if (best >= 0 && best < o.negIouThr) gtInds[j] = 0;
    if (best >= o.posIouThr) gtInds[j] = bi + 1;
  }
  if (o.matchLowQuality) {
    for (let i = 0; i < g; i++) {
      let gtMax = -Infinity;
      for (let j = 0; j < n; j++) gtMax = Math.max(gtMax, ov[i * n + j]);
      if (gtMax >= o.minPosIou) {
        for (let j = 0; j < n; j++) if (ov[i * n + j] === gtMax) gtInds[j] = i + 1;
      }
    }
  }
  return { numGts: g, gtInds, maxOverlaps };
}

export interface SamplerOptions {
  /** Total samples per image. */
  num: number;
  posFraction: number;
  /** Prepend the ground truths to the boxes as positives (RCNN stage). */
  addGtAsProposals: boolean;
}

/** Sampled boxes: positives then negatives, with what each positive is assigned to. */
export interface Sampling {
  /** The boxes sampled from (ground truths first when added). */
  boxes: Float32Array;
  /** Indices into `boxes`, ascending. */
  posInds: Int32Array;
  negInds: Int32Array;
  /** Ground-truth index (0-based) of each positive. */
  posGtInds: Int32Array;
  /** Whether each box is an added ground truth. */
  gtFlags: Uint8Array;
}

function indicesWhere(a: Int32Array, pred: (v: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (pred(a[i])) out.push(i);
  return out;
}

/** `want` of `gallery` at random, or all of it when it is not larger; sorted ascending (torch `unique`). */
function randomSubset(gallery: number[], want: number, rng: TrainRng): Int32Array {
  const chosen = gallery.length <= want ? gallery : rng.choice(gallery, want);
  return Int32Array.from(chosen).sort();
}

/**
 * mmdetection `RandomSampler.sample`: with `addGtAsProposals` the ground truths are prepended to
 * `boxes` and assigned to themselves; positives at random up to `num · posFraction`, negatives
 * up to `num` minus the positives taken.
 */
export function randomSample(a: Assignment, boxes: Float32Array, gts: Float32Array, o: SamplerOptions, rng: TrainRng): Sampling {
  let all = boxes;
  let gtInds = a.gtInds;
  const g = gts.length / 4;
  let gtFlags = new Uint8Array(boxes.length / 4);
  if (o.addGtAsProposals && g > 0) {
    all = new Float32Array(gts.length + boxes.length);
    all.set(gts, 0);
    all.set(boxes, gts.length);
    gtInds = new Int32Array(g + a.gtInds.length);
    for (let i = 0; i < g; i++) gtInds[i] = i + 1;
    gtInds.set(a.gtInds, g);
    gtFlags = new Uint8Array(gtInds.length);
    gtFlags.fill(1, 0, g);
  }
  const posInds = randomSubset(indicesWhere(gtInds, (v) => v > 0), Math.trunc(o.num * o.posFraction), rng);
  const negInds = randomSubset(indicesWhere(gtInds, (v) => v === 0), o.num - posInds.length, rng);
  const posGtInds = Int32Array.from(posInds, (i) => gtInds[i] - 1);
  return { boxes: all, posInds, negInds, posGtInds, gtFlags };
}
