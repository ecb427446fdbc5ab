/**
 * The Mask R-CNN RoI head at test time (mmdetection `StandardRoIHead.simple_test`, torchvision
 * `RoIHeads` in eval mode): box branch on the proposals, then post-processing (./postprocess.ts);
 * then the mask branch on the detected boxes.
 */
import type { DetOps, RoiAlignSpec } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { BBoxHead, type BBoxHeadOptions } from './bbox-head.js';
import { MaskHead, type MaskHeadOptions } from './mask-head.js';
import { type RoiPoolOptions, poolRois } from './pool.js';
import { type BoxDetections, detectionsOf, type RoiTestOptions } from './postprocess.js';

export type { RoiTestOptions } from './postprocess.js';

/** What every RoI head shares: pooling, the mask head's shape, test settings. */
export interface RoiHeadCommon extends RoiPoolOptions {
  boxRoi: Omit<RoiAlignSpec, 'scales'>;
  maskRoi: Omit<RoiAlignSpec, 'scales'>;
  mask: MaskHeadOptions;
  test: RoiTestOptions;
}

export interface RoiHeadOptions extends RoiHeadCommon {
  bbox: BBoxHeadOptions;
  coder: BoxCoderOptions;
}

/** Detections: boxes [D, 4], scores [D], labels [D] (0-based foreground class, float), masks [D, 1, 28, 28]. */
export interface Detections<T> extends BoxDetections<T> {
  masks: T;
}

/** The test-time contract of a detector's RoI head (single-stage and cascade). */
export interface RoiHeadLike {
  readonly o: RoiHeadCommon;
  /** Box branch and post-processing: detections without masks. */
  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T>;
  /** Mask probabilities [D, 1, 28, 28] for detected boxes and labels. */
  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T;
}

export class RoiHead implements RoiHeadLike {
  readonly bbox: BBoxHead;
  readonly mask: MaskHead;

  constructor(scope: Scope, readonly o: RoiHeadOptions) {
    this.bbox = new BBoxHead(scope.child('bbox_head'), o.bbox);
    this.mask = new MaskHead(scope.child('mask_head'), o.mask);
  }

  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T> {
    const { scores, deltas } = this.bbox.forward(ops, poolRois(ops, feats, proposals, this.o, this.o.boxRoi));
    return detectionsOf(ops, proposals, scores, deltas, this.o.bbox.numClasses, this.o.bbox.classAgnostic, this.o.coder, imageSize, this.o.test);
  }

  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    return this.mask.forward(ops, poolRois(ops, feats, boxes, this.o, this.o.maskRoi), labels);
  }
}
