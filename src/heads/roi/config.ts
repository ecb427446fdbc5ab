/**
 * What every RoI head config shares (RoIAlign of the box and mask branches, the level mapper, the
 * mask head, test settings), the box head's schema, and their resolution into constructor options
 * against the convention profile's values for whatever a config leaves unset. Channel counts and
 * strides come from the upstream (the pyramid levels the head pools from), never from the config.
 */
import { z } from 'zod';
import type { RoiAlignSpec } from '../../core/det-ops.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { boxCoderSchema } from '../../core/det/coder-config.js';
import type { FeatureSpec } from '../../core/feature-spec.js';
import type { ComponentEntry } from '../../core/registry.js';
import type { BBoxHeadOptions } from './bbox-head.js';
import type { RoiHead, RoiHeadCommon } from './contract.js';

const posInt = z.number().int().positive();

const roiAlignSchema = z
  .object({
    output_size: posInt.optional(),
    /** Samples per bin and axis; 0: adaptive (ceil(roi / output)). */
    sampling_ratio: z.number().int().min(0).optional(),
    /** true: −0.5 px shift (mmcv/torchvision aligned=True); false: legacy. */
    aligned: z.boolean().optional(),
  })
  .strict();

const levelMapperSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mmdet'), finest_scale: z.number().positive().default(56) }).strict(),
  z.object({ type: z.literal('torchvision'), canonical_scale: z.number().positive().default(224), canonical_level: z.number().int().default(4) }).strict(),
]);

/** Mask head shape a config leaves unset (mmdetection's FCNMaskHead: 4 convs of 256). */
export const MASK_HEAD_DEFAULTS = { num_convs: 4, conv_out_channels: 256 } as const;

const maskHeadSchema = z
  .object({
    num_convs: z.number().int().min(0).default(MASK_HEAD_DEFAULTS.num_convs),
    conv_out_channels: posInt.default(MASK_HEAD_DEFAULTS.conv_out_channels),
    /** `conv_logits` has a background channel first (torchvision). */
    with_background: z.boolean().optional(),
  })
  .strict();

const rcnnTestSchema = z
  .object({
    score_thr: z.number().min(0).max(1).optional(),
    iou_threshold: z.number().min(0).max(1).optional(),
    max_per_img: posInt.optional(),
    /** Remove boxes with a side under this before NMS (torchvision 1e-2); null: none. */
    min_bbox_size: z.number().min(0).nullable().optional(),
    /** Mask probability threshold (≥). */
    mask_thr_binary: z.number().min(0).max(1).optional(),
    /** 'grid_sample' (mmdetection: float box) or 'torchvision' (28→30 padding, integer box, resize). */
    paste: z.enum(['grid_sample', 'torchvision']).optional(),
  })
  .strict();

/** The fields of every RoI head config besides `type` (spread into each entry's schema). */
export const roiHeadFields = {
  bbox_roi: roiAlignSchema.optional(),
  mask_roi: roiAlignSchema.optional(),
  level_mapper: levelMapperSchema.optional(),
  mask_head: maskHeadSchema.prefault({}),
  test: rcnnTestSchema.optional(),
};

/** Shape defaults of a box head (mmdetection `ConvFCBBoxHead` with shared branches). */
export interface BBoxHeadDefaults {
  readonly num_shared_convs: number;
  readonly conv_out_channels: number;
  readonly norm: 'BN' | null;
  readonly num_shared_fcs: number;
  readonly fc_out_channels: number;
  readonly reg_class_agnostic: boolean;
}

/** One box head (mmdetection `ConvFCBBoxHead` with shared branches: Shared2FC, Shared4Conv1FC, …). */
export function bboxHeadSchema(d: BBoxHeadDefaults) {
  return z
    .object({
      /** Shared 3×3 convs before the fcs (mmdetection `num_shared_convs`). */
      num_shared_convs: z.number().int().min(0).default(d.num_shared_convs),
      conv_out_channels: posInt.default(d.conv_out_channels),
      /** Normalisation after each shared conv: 'BN' (mmcv ConvModule with BN or SyncBN; the conv has no bias) or null. */
      norm: z.enum(['BN']).nullable().default(d.norm),
      num_shared_fcs: z.number().int().min(0).default(d.num_shared_fcs),
      fc_out_channels: posInt.default(d.fc_out_channels),
      /** Position of the background logit in `fc_cls` (convention-dependent when unset). */
      background: z.enum(['last', 'first']).optional(),
      /** `fc_reg` has deltas for the background class too (torchvision). */
      reg_with_background: z.boolean().optional(),
      /** One set of deltas for every class (mmdetection `reg_class_agnostic`). */
      reg_class_agnostic: z.boolean().default(d.reg_class_agnostic),
      bbox_coder: boxCoderSchema.optional(),
    })
    .strict();
}

/** One box head's config, defaults filled in. */
export type BBoxHeadConfig = z.output<ReturnType<typeof bboxHeadSchema>>;

/** What every RoI head config has (parsed), whatever its type. */
export interface RoiHeadConfig {
  readonly type: string;
  readonly bbox_roi?: z.output<typeof roiAlignSchema>;
  readonly mask_roi?: z.output<typeof roiAlignSchema>;
  readonly level_mapper?: z.output<typeof levelMapperSchema>;
  readonly mask_head: z.output<typeof maskHeadSchema>;
  readonly test?: z.output<typeof rcnnTestSchema>;
}

/** The convention profile's RoI-head values, used for whatever a config leaves unset. */
export interface RoiConventions {
  rcnnCoder: BoxCoderOptions;
  roiAlign: { samplingRatio: number; aligned: boolean };
  levelMapper: { type: 'mmdet'; finestScale: number } | { type: 'torchvision'; canonicalScale: number; canonicalLevel: number };
  background: 'last' | 'first';
  regWithBackground: boolean;
  maskWithBackground: boolean;
  rcnnTest: { scoreThr: number; iouThr: number; maxPerImg: number; minSize: number | null; maskThr: number; paste: 'grid_sample' | 'torchvision' };
}

/** What a detector gives its RoI head besides the pyramid levels it pools from. */
export interface RoiHeadContext {
  numClasses: number;
  conventions: RoiConventions;
}

/** A RoI head type's registry entry. */
export type RoiHeadEntry<O extends RoiHeadConfig> = ComponentEntry<O, RoiHead, RoiHeadContext>;

/** Test-time values of a RoI head config (mask threshold and paste included), the profile's where unset. */
export function roiTestValues(o: RoiHeadConfig, v: RoiConventions): RoiConventions['rcnnTest'] {
  const t = o.test ?? {};
  const p = v.rcnnTest;
  return {
    scoreThr: t.score_thr ?? p.scoreThr,
    iouThr: t.iou_threshold ?? p.iouThr,
    maxPerImg: t.max_per_img ?? p.maxPerImg,
    minSize: t.min_bbox_size === undefined ? p.minSize : t.min_bbox_size,
    maskThr: t.mask_thr_binary ?? p.maskThr,
    paste: t.paste ?? p.paste,
  };
}

/** RoIAlign settings of the box (7) or mask (14) branch. */
function roiAlignValues(o: RoiHeadConfig, v: RoiConventions, branch: 'bbox' | 'mask'): Omit<RoiAlignSpec, 'scales'> {
  const r = (branch === 'bbox' ? o.bbox_roi : o.mask_roi) ?? {};
  return { output: r.output_size ?? (branch === 'bbox' ? 7 : 14), samplingRatio: r.sampling_ratio ?? v.roiAlign.samplingRatio, aligned: r.aligned ?? v.roiAlign.aligned };
}

/** The options every RoI head shares, from its config, the levels it pools from and the detector's context. */
export function roiHeadCommon(upstream: readonly FeatureSpec[], o: RoiHeadConfig, ctx: RoiHeadContext): RoiHeadCommon {
  const v = ctx.conventions;
  const strides = upstream.map((s) => s.stride);
  const lm = o.level_mapper;
  const mapper = lm === undefined ? v.levelMapper
    : lm.type === 'mmdet' ? { type: 'mmdet' as const, finestScale: lm.finest_scale }
      : { type: 'torchvision' as const, canonicalScale: lm.canonical_scale, canonicalLevel: lm.canonical_level };
  const t = roiTestValues(o, v);
  return {
    strides,
    boxRoi: roiAlignValues(o, v, 'bbox'),
    maskRoi: roiAlignValues(o, v, 'mask'),
    levels: mapper.type === 'mmdet' ? mapper : { ...mapper, minLevel: Math.round(Math.log2(strides[0])) },
    mask: {
      inChannels: upstream[0].channels,
      numConvs: o.mask_head.num_convs,
      convChannels: o.mask_head.conv_out_channels,
      numClasses: ctx.numClasses,
      withBackground: o.mask_head.with_background ?? v.maskWithBackground,
    },
    test: { scoreThr: t.scoreThr, iouThr: t.iouThr, maxPerImg: t.maxPerImg, minSize: t.minSize },
  };
}

/** Box head options of one stage's config on the pooled levels. */
export function bboxHeadOptions(bh: BBoxHeadConfig, upstream: readonly FeatureSpec[], o: RoiHeadConfig, ctx: RoiHeadContext): BBoxHeadOptions {
  return {
    inChannels: upstream[0].channels,
    roiSize: roiAlignValues(o, ctx.conventions, 'bbox').output,
    numSharedConvs: bh.num_shared_convs,
    convChannels: bh.conv_out_channels,
    convNorm: bh.norm === 'BN' ? 'bn' : null,
    numSharedFcs: bh.num_shared_fcs,
    fcChannels: bh.fc_out_channels,
    numClasses: ctx.numClasses,
    background: bh.background ?? ctx.conventions.background,
    regWithBackground: bh.reg_with_background ?? ctx.conventions.regWithBackground,
    classAgnostic: bh.reg_class_agnostic,
  };
}
