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
import { type BoxCoderOptions, decodeBoxes } from '../det/coder.js';
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
    const classes = new Set(o.stages.map((s) => s.bbox.numClasses));
    if (classes.size !== 1) throw new Error('cascade RoI head: every stage must have the same number of classes');
    this.bbox = o.stages.map((s, i) => new BBoxHead(scope.child('bbox_head').child(i), s.bbox));
    this.mask = o.stages.map((_, i) => new MaskHead(scope.child('mask_head').child(i), o.mask));
  }

  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T> {
    const n = this.o.stages.length;
    let rois = proposals;
    let logitSum: T | null = null;
    const run = (s: number) => {
      const raw = this.bbox[s].raw(ops, poolRois(ops, feats, rois, this.o, this.o.boxRoi));
      logitSum = logitSum === null ? raw.cls : ops.add(logitSum, raw.cls);
      return { cls: raw.cls, deltas: this.bbox[s].deltas(ops, raw.reg) };
    };
    for (let s = 0; s < n - 1; s++) {
      const head = this.bbox[s];
      const { cls, deltas } = run(s);
      const picked = head.o.classAgnostic ? deltas : ops.pickGroups(deltas, ops.argmaxColumns(head.foregroundLogits(ops, cls)), 4);
      rois = decodeBoxes(ops, picked, rois, this.o.stages[s].coder, imageSize);
    }
    const { deltas } = run(n - 1);
    const last = this.o.stages[n - 1];
    const mean = n === 1 ? logitSum! : ops.divScalar(logitSum!, n);
    return detectionsOf(ops, rois, this.bbox[n - 1].scores(ops, mean), deltas, last.bbox.numClasses, last.bbox.classAgnostic, last.coder, imageSize, this.o.test);
  }

  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    const pooled = poolRois(ops, feats, boxes, this.o, this.o.maskRoi);
    let sum: T | null = null;
    for (const head of this.mask) {
      const p = head.forward(ops, pooled, labels);
      sum = sum === null ? p : ops.add(sum, p);
    }
    return this.mask.length === 1 ? sum! : ops.divScalar(sum!, this.mask.length);
  }
}
