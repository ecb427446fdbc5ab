/**
 * RPN proposals at test time, as mmdetection's `RPNHead._get_bboxes_single` and torchvision's
 * `RegionProposalNetwork.filter_proposals`: per level the `nmsPre` highest objectness logits, their
 * anchors decoded and clipped to the image, boxes at or under the minimum size dropped, NMS per
 * level, the `maxPerImg` best kept (by score, descending).
 */
import type { AnchorGridSpec, DetOps } from '../../core/det-ops.js';
import { type BoxCoderOptions, decodeBoxes, sizeMask } from '../../core/det/coder.js';

export interface ProposalOptions {
  /** Candidates per level before NMS. */
  nmsPre: number;
  /** Proposals kept per image. */
  maxPerImg: number;
  iouThr: number;
  /** Boxes need width and height above this (mmdetection `min_bbox_size`, 0) or at least it (torchvision, 1e-3). */
  minSize: number;
  minSizeInclusive: boolean;
  coder: BoxCoderOptions;
}

/** Proposals [P, 4] and their objectness probabilities [P]. */
export function proposals<T>(
  ops: DetOps<T>,
  feats: readonly T[],
  heads: ReadonlyArray<{ cls: T; reg: T }>,
  grids: readonly AnchorGridSpec[],
  image: T,
  imageSize: T,
  o: ProposalOptions,
): { boxes: T; scores: T } {
  const scores: T[] = [];
  const deltas: T[] = [];
  const anchors: T[] = [];
  const levels: T[] = [];
  heads.forEach((h, l) => {
    const logits = ops.reshape(ops.mapToRows(h.cls, 1), [-1]);
    const top = ops.topK(logits, o.nmsPre);
    const s = ops.sigmoid(top.values);
    scores.push(s);
    deltas.push(ops.gather(ops.mapToRows(h.reg, 4), top.indices));
    anchors.push(ops.gather(ops.gridAnchors(feats[l], image, grids[l]), top.indices));
    levels.push(ops.addScalar(ops.mulScalar(s, 0), l));
  });
  const boxes = decodeBoxes(ops, ops.concatRows(deltas), ops.concatRows(anchors), o.coder, imageSize);
  const valid = ops.nonzero(sizeMask(ops, boxes, o.minSize, o.minSizeInclusive));
  const vb = ops.gather(boxes, valid);
  const vs = ops.gather(ops.concatRows(scores), valid);
  const keep = ops.batchedNms(vb, vs, ops.gather(ops.concatRows(levels), valid), heads.length, o.iouThr, o.maxPerImg);
  return { boxes: ops.gather(vb, keep), scores: ops.gather(vs, keep) };
}
