/**
 * The contract of a detector's RoI head (single-stage and cascade alike): test-time detection and
 * masks on the pyramid, and its stages (box head, mask head, coder, loss weight), which training
 * reads to compute the losses on the same parameters.
 */
import type { DetOps, RoiAlignSpec } from '../../core/det-ops.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import type { BBoxHead } from './bbox-head.js';
import type { MaskHead, MaskHeadOptions } from './mask-head.js';
import type { RoiPoolOptions } from './pool.js';
import type { BoxDetections, RoiTestOptions } from './postprocess.js';

/** What every RoI head shares: pooling, the mask head's shape, test settings. */
export interface RoiHeadCommon extends RoiPoolOptions {
  boxRoi: Omit<RoiAlignSpec, 'scales'>;
  maskRoi: Omit<RoiAlignSpec, 'scales'>;
  mask: MaskHeadOptions;
  test: RoiTestOptions;
}

/** One stage of a RoI head: what training computes its losses with. */
export interface RoiStage {
  readonly bbox: BBoxHead;
  readonly mask: MaskHead;
  /** The coder of this stage's regression targets. */
  readonly coder: BoxCoderOptions;
  /** This stage's weight in the total loss. */
  readonly lossWeight: number;
}

/** A detector's RoI head. */
export interface RoiHead {
  readonly o: RoiHeadCommon;
  /** The stages in order (one for Mask R-CNN); before the last, each refines the RoIs for the next. */
  readonly stages: readonly RoiStage[];
  /** Box branch and post-processing: detections without masks. */
  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T>;
  /** Mask probabilities [D, 1, 28, 28] for detected boxes and labels. */
  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T;
}
