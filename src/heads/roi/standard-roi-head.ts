/**
 * The Mask R-CNN RoI head (mmdetection `StandardRoIHead`, torchvision `RoIHeads`), `type:
 * 'standard'`. At test time (`simple_test`, torchvision in eval mode): the box branch on the
 * proposals, then post-processing (./postprocess.ts); then the mask branch on the detected boxes.
 * Parameters: `bbox_head.*`, `mask_head.*`.
 */
import { z } from 'zod';
import type { DetOps } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { resolveCoder } from '../../core/det/coder-config.js';
import { BBoxHead, type BBoxHeadOptions } from './bbox-head.js';
import { type BBoxHeadDefaults, bboxHeadOptions, bboxHeadSchema, roiHeadCommon, type RoiHeadEntry, roiHeadFields } from './config.js';
import type { RoiHead, RoiHeadCommon, RoiStage } from './contract.js';
import { MaskHead } from './mask-head.js';
import { poolRois } from './pool.js';
import { type BoxDetections, detectionsOf } from './postprocess.js';

/** mmdetection's Shared2FCBBoxHead: the box head of a standard RoI head that leaves it unset. */
export const STANDARD_BBOX_HEAD: BBoxHeadDefaults = { num_shared_convs: 0, conv_out_channels: 256, norm: null, num_shared_fcs: 2, fc_out_channels: 1024, reg_class_agnostic: false };

/** A standard RoI head's config: one box head (mmdetection's Shared2FCBBoxHead unless set) and one mask head. */
export const standardRoiHeadSchema = z
  .object({ type: z.literal('standard'), ...roiHeadFields, bbox_head: bboxHeadSchema(STANDARD_BBOX_HEAD).prefault({}) })
  .strict();

export type StandardRoiHeadConfig = z.output<typeof standardRoiHeadSchema>;

export interface StandardRoiHeadOptions extends RoiHeadCommon {
  bbox: BBoxHeadOptions;
  coder: BoxCoderOptions;
}

export class StandardRoiHead implements RoiHead {
  readonly bbox: BBoxHead;
  readonly mask: MaskHead;
  readonly stages: readonly RoiStage[];

  constructor(scope: Scope, readonly o: StandardRoiHeadOptions) {
    this.bbox = new BBoxHead(scope.child('bbox_head'), o.bbox);
    this.mask = new MaskHead(scope.child('mask_head'), o.mask);
    this.stages = [{ bbox: this.bbox, mask: this.mask, coder: o.coder, lossWeight: 1 }];
  }

  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T> {
    const { scores, deltas } = this.bbox.forward(ops, poolRois(ops, feats, proposals, this.o, this.o.boxRoi));
    return detectionsOf(ops, proposals, scores, deltas, this.o.bbox.numClasses, this.o.bbox.classAgnostic, this.o.coder, imageSize, this.o.test);
  }

  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    return this.mask.forward(ops, poolRois(ops, feats, boxes, this.o, this.o.maskRoi), labels);
  }
}

/** The registry entry (`type: 'standard'`); the box coder is the profile's unless `bbox_head.bbox_coder` sets it. */
export const standardRoiHeadEntry: RoiHeadEntry<StandardRoiHeadConfig> = {
  type: 'standard',
  schema: standardRoiHeadSchema,
  build: (scope, upstream, o, ctx) => new StandardRoiHead(scope, {
    ...roiHeadCommon(upstream, o, ctx),
    bbox: bboxHeadOptions(o.bbox_head, upstream, o, ctx),
    coder: resolveCoder(o.bbox_head.bbox_coder, ctx.conventions.rcnnCoder),
  }),
};
