/**
 * The Cascade R-CNN RoI head at test time, as mmdetection 2.x `CascadeRoIHead.simple_test`:
 *
 * - stage s pools the current RoIs (the proposals for stage 0) and runs its box head
 *   (`bbox_head.{s}`); before the last stage the RoIs are refined by the stage's deltas of the
 *   arg-max foreground class (`regress_by_class`: decoded with the stage's coder, clipped to the image);
 * - the class logits of all stages are averaged (summed, then divided by the stage count), and
 *   the softmax of that average scores the last stage's RoIs, decoded with the last stage's deltas;
 *   then the usual post-processing (class-wise NMS, best `maxPerImg`);
 * - every stage's mask head (`mask_head.{s}`) runs on the detected boxes; the mask probability is
 *   the mean of the stages' sigmoid probabilities (`merge_aug_masks`).
 */
import type { DetOps } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import { type BoxCoderOptions, decodeBoxes } from '../../core/det/coder.js';
import { BBoxHead, type BBoxHeadOptions } from './bbox-head.js';
import { MaskHead } from './mask-head.js';
import { poolRois } from './pool.js';
import { type BoxDetections, detectionsOf } from './postprocess.js';
import type { RoiHeadCommon, RoiHeadLike } from './roi-head.js';

export interface CascadeStageOptions {
  bbox: BBoxHeadOptions;
  coder: BoxCoderOptions;
}

export interface CascadeRoiHeadOptions extends RoiHeadCommon {
  stages: readonly CascadeStageOptions[];
}

export class CascadeRoiHead implements RoiHeadLike {
  readonly bbox: readonly BBoxHead[];
  readonly mask: readonly MaskHead[];

  constructor(scope: Scope, readonly o: CascadeRoiHeadOptions) {
    if (o.stages.length < 1) throw new Error('cascade RoI head: at least one stage');
    // The stages' logits are averaged: they must have the same classes in the same columns.
    const layouts = new Set(o.stages.map((s) => `${s.bbox.numClasses}/${s.bbox.background}`));
    if (layouts.size !== 1) throw new Error('cascade RoI head: every stage must have the same number of classes and background position');
    this.bbox = o.stages.map((s, i) => new BBoxHead(scope.child('bbox_head').child(i), s.bbox));
    this.mask = o.stages.map((_, i) => new MaskHead(scope.child('mask_head').child(i), o.mask));
  }

  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T> {
    const n = this.o.stages.length;
    let rois = proposals;
    const logits: T[] = [];
    let deltas: T | null = null;
    for (let s = 0; s < n; s++) {
      const head = this.bbox[s];
      const raw = head.raw(ops, poolRois(ops, feats, rois, this.o, this.o.boxRoi));
      logits.push(raw.cls);
      deltas = head.deltas(ops, raw.reg);
      if (s === n - 1) break;
      const picked = head.o.classAgnostic ? deltas : ops.pickGroups(deltas, ops.argmaxColumns(head.foregroundLogits(ops, raw.cls)), 4);
      rois = decodeBoxes(ops, picked, rois, this.o.stages[s].coder, imageSize);
    }
    const last = this.o.stages[n - 1];
    const mean = meanOf(ops, logits);
    return detectionsOf(ops, rois, this.bbox[n - 1].scores(ops, mean), deltas!, last.bbox.numClasses, last.bbox.classAgnostic, last.coder, imageSize, this.o.test);
  }

  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    const pooled = poolRois(ops, feats, boxes, this.o, this.o.maskRoi);
    return meanOf(ops, this.mask.map((head) => head.forward(ops, pooled, labels)));
  }
}

/** The mean of tensors of one shape: summed in order, then divided by their count (as mmdetection). */
function meanOf<T>(ops: DetOps<T>, xs: readonly T[]): T {
  const sum = xs.slice(1).reduce((acc, x) => ops.add(acc, x), xs[0]);
  return xs.length === 1 ? sum : ops.divScalar(sum, xs.length);
}
