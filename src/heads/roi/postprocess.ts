/**
 * RCNN test-time post-processing (mmdetection `BBoxHead.get_bboxes` + `multiclass_nms`,
 * torchvision `RoIHeads.postprocess_detections`): per-class decoding and clipping of each RoI,
 * score threshold, optional small-box removal, class-wise NMS, the best `maxPerImg`.
 */
import type { DetOps } from '../../core/det-ops.js';
import { type BoxCoderOptions, decodeBoxes, sizeMask } from '../../core/det/coder.js';

export interface RoiTestOptions {
  /** Detections need a class probability above this. */
  scoreThr: number;
  iouThr: number;
  maxPerImg: number;
  /** Remove boxes with a side under this before NMS (torchvision 1e-2); null: keep all (mmdetection). */
  minSize: number | null;
}

/** Detections: boxes [D, 4], scores [D], labels [D] (0-based foreground class, float). */
export interface BoxDetections<T> {
  boxes: T;
  scores: T;
  labels: T;
}

/**
 * Detections of RoIs [R, 4] with foreground probabilities [R, C] and deltas [R, 4C] (class-specific)
 * or [R, 4] (class-agnostic: one box per RoI, scored for every class).
 */
export function detectionsOf<T>(ops: DetOps<T>, rois: T, scores: T, deltas: T, numClasses: number, classAgnostic: boolean, coder: BoxCoderOptions, imageSize: T, t: RoiTestOptions): BoxDetections<T> {
  const c = numClasses;
  const boxes = classAgnostic
    ? ops.repeatRows(decodeBoxes(ops, deltas, rois, coder, imageSize), c)
    : decodeBoxes(ops, ops.reshape(deltas, [-1, 4]), ops.repeatRows(rois, c), coder, imageSize);
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
