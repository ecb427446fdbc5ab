/**
 * The Mask R-CNN RoI head at test time (mmdetection `StandardRoIHead.simple_test`, torchvision
 * `RoIHeads` in eval mode): box branch on the proposals, class-specific decoding and clipping,
 * score threshold, optional small-box removal, class-wise NMS, the best `maxPerImg` detections;
 * then the mask branch on the detected boxes.
 */
import type { DetOps, RoiAlignSpec } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import { type BoxCoderOptions, decodeBoxes, sizeMask } from '../det/coder.js';
import { BBoxHead, type BBoxHeadOptions } from './bbox-head.js';
import { type LevelMapperOptions, mapRoiLevels } from './levels.js';
import { MaskHead, type MaskHeadOptions } from './mask-head.js';

export interface RoiTestOptions {
  /** Detections need a class probability above this. */
  scoreThr: number;
  iouThr: number;
  maxPerImg: number;
  /** Remove boxes with a side under this before NMS (torchvision 1e-2); null: keep all (mmdetection). */
  minSize: number | null;
}

export interface RoiHeadOptions {
  /** Strides of the pooled levels (p2…p5). */
  strides: readonly number[];
  boxRoi: Omit<RoiAlignSpec, 'scales'>;
  maskRoi: Omit<RoiAlignSpec, 'scales'>;
  levels: LevelMapperOptions;
  bbox: BBoxHeadOptions;
  coder: BoxCoderOptions;
  mask: MaskHeadOptions;
  test: RoiTestOptions;
}

/** Detections: boxes [D, 4], scores [D], labels [D] (0-based foreground class, float), masks [D, 1, 28, 28]. */
export interface Detections<T> {
  boxes: T;
  scores: T;
  labels: T;
  masks: T;
}

export class RoiHead {
  readonly bbox: BBoxHead;
  readonly mask: MaskHead;

  constructor(scope: Scope, readonly o: RoiHeadOptions) {
    this.bbox = new BBoxHead(scope.child('bbox_head'), o.bbox);
    this.mask = new MaskHead(scope.child('mask_head'), o.mask);
  }

  private pool<T>(ops: DetOps<T>, feats: readonly T[], rois: T, spec: Omit<RoiAlignSpec, 'scales'>): T {
    const levels = mapRoiLevels(ops, rois, this.o.strides.length, this.o.levels);
    return ops.roiAlign(feats.slice(0, this.o.strides.length), rois, levels, { ...spec, scales: this.o.strides.map((s) => 1 / s) });
  }

  /** Box branch and post-processing: detections without masks. */
  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): Omit<Detections<T>, 'masks'> {
    const { scores, deltas } = this.bbox.forward(ops, this.pool(ops, feats, proposals, this.o.boxRoi));
    const c = this.o.bbox.numClasses;
    const t = this.o.test;
    const boxes = decodeBoxes(ops, ops.reshape(deltas, [-1, 4]), ops.repeatRows(proposals, c), this.o.coder, imageSize);
    const flatScores = ops.reshape(scores, [-1]);
    const labels = ops.reshape(ops.columnIndex(scores), [-1]);
    let mask = ops.greaterScalar(flatScores, t.scoreThr);
    if (t.minSize !== null) mask = ops.and(mask, sizeMask(ops, boxes, t.minSize, true));
    const cand = ops.nonzero(mask);
    const cb = ops.gather(boxes, cand);
    const cs = ops.gather(flatScores, cand);
    const cl = ops.gather(labels, cand);
    const keep = ops.batchedNms(cb, cs, cl, c, t.iouThr, t.maxPerImg);
    return { boxes: ops.gather(cb, keep), scores: ops.gather(cs, keep), labels: ops.gather(cl, keep) };
  }

  /** Mask probabilities [D, 1, 28, 28] for detected boxes and labels. */
  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    return this.mask.forward(ops, this.pool(ops, feats, boxes, this.o.maskRoi), labels);
  }
}
