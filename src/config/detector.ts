/**
 * Config schemas of Mask R-CNN and Cascade Mask R-CNN (backbone + neck + RPN + box and mask heads) and their resolution into
 * constructor options. Every numeric convention where mmdetection and torchvision differ
 * (the conventions table of the README) is a config value; `conventions` picks the set that unset values come from:
 * `mmdet` (the ConvNeXt release's, the default) or `torchvision`. Channel counts and strides are
 * never written here: they come from the backbone's FeatureSpec.
 */
import { z } from 'zod';
import type { AnchorStrideMode } from '../core/det-ops.js';
import type { BoxCoderOptions } from '../core/det/coder.js';
import { BACKBONES, backboneSpecs } from '../backbones/index.js';
import type { BackboneConfig } from '../core/components.js';
import type { RegisteredConfig } from '../core/registry.js';
import { NECKS } from '../necks/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './input.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const four = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const posInt = z.number().int().positive();

export const CONVENTIONS = ['mmdet', 'torchvision'] as const;
export type Conventions = (typeof CONVENTIONS)[number];

const coderSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mmdet'), means: four.optional(), stds: four.optional(), clip: z.number().positive().optional() }).strict(),
  z.object({ type: z.literal('torchvision'), weights: four.optional(), clip: z.number().positive().optional() }).strict(),
]);

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

const rpnHeadSchema = z
  .object({
    feat_channels: posInt.optional(),
    anchor_generator: z
      .object({
        /** Octave scales: the anchor side is stride × scale (8: 32 px at stride 4). */
        scales: z.array(z.number().positive()).min(1).optional(),
        ratios: z.array(z.number().positive()).min(1).optional(),
        /** Round base anchors to integers (torchvision). */
        round: z.boolean().optional(),
        center_offset: z.number().min(0).max(1).optional(),
        /** 'nominal' (mmdetection) or 'input_over_feature' (torchvision: padded size // feature size). */
        stride_mode: z.enum(['nominal', 'input_over_feature']).optional(),
      })
      .strict()
      .optional(),
    bbox_coder: coderSchema.optional(),
    test: z
      .object({
        nms_pre: posInt.optional(),
        max_per_img: posInt.optional(),
        iou_threshold: z.number().min(0).max(1).optional(),
        min_bbox_size: z.number().min(0).optional(),
        /** Keep boxes whose sides equal min_bbox_size (torchvision) or only larger ones (mmdetection). */
        min_size_inclusive: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Box head shapes a config leaves unset: mmdetection's Shared2FCBBoxHead for Mask R-CNN, and the
 * official ConvNeXt Cascade configs' "4conv1f" Shared4Conv1FCBBoxHead (with SyncBN) per stage.
 */
export const BBOX_HEAD_DEFAULTS = {
  mask_rcnn: { num_shared_convs: 0, conv_out_channels: 256, norm: null, num_shared_fcs: 2, fc_out_channels: 1024, reg_class_agnostic: false },
  cascade_mask_rcnn: { num_shared_convs: 4, conv_out_channels: 256, norm: 'BN', num_shared_fcs: 1, fc_out_channels: 1024, reg_class_agnostic: false },
} as const;

/** Mask head shape a config leaves unset (mmdetection's FCNMaskHead: 4 convs of 256). */
export const MASK_HEAD_DEFAULTS = { num_convs: 4, conv_out_channels: 256 } as const;

/** One box head (mmdetection `ConvFCBBoxHead` with shared branches: Shared2FC, Shared4Conv1FC, …). */
function bboxHeadSchema(d: (typeof BBOX_HEAD_DEFAULTS)[keyof typeof BBOX_HEAD_DEFAULTS]) {
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
      bbox_coder: coderSchema.optional(),
    })
    .strict();
}

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

/** RoI head fields that every two-stage detector has. */
const roiHeadFields = {
  bbox_roi: roiAlignSchema.optional(),
  mask_roi: roiAlignSchema.optional(),
  level_mapper: levelMapperSchema.optional(),
  mask_head: maskHeadSchema.prefault({}),
  test: rcnnTestSchema.optional(),
};

const inputSchema = z
  .object({
    /** Normalisation on the 0–255 scale (torchvision's 0–1 ImageNet statistics × 255). */
    mean: rgb.default([...IMAGENET_MEAN]),
    std: rgb.default([...IMAGENET_STD]),
    /** (long, short) with keep ratio: scale by min(long / long side, short / short side); null: no resize. */
    scale: z.tuple([posInt, posInt]).nullable().optional(),
    /** New size: round half up (mmcv) or floor (torchvision). */
    rounding: z.enum(['round', 'floor']).optional(),
    size_divisor: posInt.optional(),
  })
  .strict()
  .default({ mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] });

/** Fields of every two-stage detector besides `type` and `roi_head`. */
const detectorFields = {
  /** Which library's numeric conventions fill the values left unset below. */
  conventions: z.enum(CONVENTIONS).default('mmdet'),
  /** Any registered backbone (src/backbones/index.ts). */
  backbone: BACKBONES.schema(),
  num_classes: posInt,
  /** Class names: 'coco' (the 80 COCO classes), or an explicit list. */
  class_names: z.union([z.literal('coco'), z.array(z.string())]).optional(),
  /** Any registered neck (src/necks/index.ts); unset: an FPN of 256 channels with one extra level. */
  neck: NECKS.schema().optional(),
  rpn_head: rpnHeadSchema.optional(),
  input: inputSchema,
};

interface CommonDetectorFields {
  num_classes: number;
  class_names?: 'coco' | string[];
  backbone: RegisteredConfig<BackboneConfig>;
  neck?: RegisteredConfig;
}

/** The neck of a detector config that leaves it unset. */
export const DEFAULT_NECK: RegisteredConfig = NECKS.schema().parse({ type: 'fpn' });

/** Rules every detector config obeys (class names against the class count, FPN levels). */
function commonRules(c: CommonDetectorFields, ctx: z.RefinementCtx): void {
  if (c.class_names === 'coco' && c.num_classes !== 80) {
    ctx.addIssue({ code: 'custom', path: ['class_names'], message: `'coco' names 80 classes but num_classes is ${c.num_classes}` });
  }
  if (Array.isArray(c.class_names) && c.class_names.length !== c.num_classes) {
    ctx.addIssue({ code: 'custom', path: ['class_names'], message: `${c.class_names.length} names for ${c.num_classes} classes` });
  }
  const outs = c.backbone.out_indices;
  if (outs && outs.length < 2) {
    ctx.addIssue({ code: 'custom', path: ['backbone', 'out_indices'], message: 'an FPN needs at least two backbone levels' });
  }
  if (c.neck && !(outs && outs.length < 2)) {
    for (const i of NECKS.check(backboneSpecs(c.backbone), c.neck)) ctx.addIssue({ code: 'custom', path: ['neck', ...i.path], message: i.message });
  }
}

/** Mask R-CNN: one box head and one mask head. */
export const maskRcnnSchema = z
  .object({
    type: z.literal('mask_rcnn'),
    ...detectorFields,
    roi_head: z.object({ ...roiHeadFields, bbox_head: bboxHeadSchema(BBOX_HEAD_DEFAULTS.mask_rcnn).prefault({}) }).strict().prefault({}),
  })
  .strict()
  .superRefine(commonRules);

/**
 * Cascade Mask R-CNN (mmdetection 2.x `CascadeRCNN` + `CascadeRoIHead`): `num_stages` box heads
 * and as many mask heads. `bbox_head` is one head for every stage or a list of one per stage;
 * unset values follow the official ConvNeXt Cascade configs (4 shared convs with BN + 1 fc,
 * class-specific deltas, target stds halving per stage). `mask_head` is replicated per stage.
 */
export const cascadeMaskRcnnSchema = z
  .object({
    type: z.literal('cascade_mask_rcnn'),
    ...detectorFields,
    roi_head: z
      .object({
        ...roiHeadFields,
        num_stages: posInt.default(3),
        /** Loss weight of each stage (training). */
        stage_loss_weights: z.array(z.number().min(0)).optional(),
        bbox_head: z.union([bboxHeadSchema(BBOX_HEAD_DEFAULTS.cascade_mask_rcnn), z.array(bboxHeadSchema(BBOX_HEAD_DEFAULTS.cascade_mask_rcnn))]).prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    commonRules(c, ctx);
    const n = c.roi_head?.num_stages ?? 3;
    const bh = c.roi_head?.bbox_head;
    if (Array.isArray(bh) && bh.length !== n) {
      ctx.addIssue({ code: 'custom', path: ['roi_head', 'bbox_head'], message: `${bh.length} box heads for ${n} stages` });
    }
    const w = c.roi_head?.stage_loss_weights;
    if (w && w.length !== n) {
      ctx.addIssue({ code: 'custom', path: ['roi_head', 'stage_loss_weights'], message: `${w.length} weights for ${n} stages` });
    }
  });

export type MaskRcnnConfig = z.output<typeof maskRcnnSchema>;
export type CascadeMaskRcnnConfig = z.output<typeof cascadeMaskRcnnSchema>;
/** Any two-stage detector config. */
export type DetectorConfig = MaskRcnnConfig | CascadeMaskRcnnConfig;
export type DetectorConfigInput = z.input<typeof maskRcnnSchema> | z.input<typeof cascadeMaskRcnnSchema>;
/** One box head's config. */
export type BBoxHeadConfig = z.output<ReturnType<typeof bboxHeadSchema>>;

/** The model types that are detectors. */
export const DETECTOR_TYPES = ['mask_rcnn', 'cascade_mask_rcnn'] as const;

/** True when a model config is a detector. */
export function isDetectorConfig(c: { type: string }): c is DetectorConfig {
  return (DETECTOR_TYPES as readonly string[]).includes(c.type);
}

/** Target stds of the official ConvNeXt Cascade configs' three stages (then halving per stage). */
export const CASCADE_STAGE_STDS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.1, 0.1, 0.2, 0.2],
  [0.05, 0.05, 0.1, 0.1],
  [0.033, 0.033, 0.067, 0.067],
];

/** Stage loss weights of mmdetection's Cascade configs. */
export const CASCADE_STAGE_LOSS_WEIGHTS = [1, 0.5, 0.25] as const;

/** The box head config of each stage (one for Mask R-CNN), defaults filled in. */
export function bboxHeadConfigs(c: DetectorConfig): BBoxHeadConfig[] {
  if (c.type === 'mask_rcnn') return [c.roi_head.bbox_head];
  const bh = c.roi_head.bbox_head;
  return Array.from({ length: c.roi_head.num_stages }, (_, s) => (Array.isArray(bh) ? bh[s] : bh));
}

/** Every convention-dependent value, fully specified. */
export interface ConventionValues {
  anchors: { scales: number[]; ratios: number[]; round: boolean; centerOffset: number; strideMode: AnchorStrideMode };
  rpnCoder: BoxCoderOptions;
  rcnnCoder: BoxCoderOptions;
  rpnTest: { nmsPre: number; maxPerImg: number; iouThr: number; minSize: number; minSizeInclusive: boolean };
  roiAlign: { samplingRatio: number; aligned: boolean };
  levelMapper: { type: 'mmdet'; finestScale: number } | { type: 'torchvision'; canonicalScale: number; canonicalLevel: number };
  background: 'last' | 'first';
  regWithBackground: boolean;
  maskWithBackground: boolean;
  rcnnTest: { scoreThr: number; iouThr: number; maxPerImg: number; minSize: number | null; maskThr: number; paste: 'grid_sample' | 'torchvision' };
  input: { scale: [number, number] | null; rounding: 'round' | 'floor'; sizeDivisor: number };
}

/** mmdetection 2.x, as the ConvNeXt Mask R-CNN configs set it. */
export const MMDET_CONVENTIONS: ConventionValues = {
  anchors: { scales: [8], ratios: [0.5, 1, 2], round: false, centerOffset: 0, strideMode: 'nominal' },
  rpnCoder: { type: 'mmdet', means: [0, 0, 0, 0], stds: [1, 1, 1, 1], clip: Math.abs(Math.log(16 / 1000)) },
  rcnnCoder: { type: 'mmdet', means: [0, 0, 0, 0], stds: [0.1, 0.1, 0.2, 0.2], clip: Math.abs(Math.log(16 / 1000)) },
  rpnTest: { nmsPre: 1000, maxPerImg: 1000, iouThr: 0.7, minSize: 0, minSizeInclusive: false },
  roiAlign: { samplingRatio: 0, aligned: true },
  levelMapper: { type: 'mmdet', finestScale: 56 },
  background: 'last',
  regWithBackground: false,
  maskWithBackground: false,
  rcnnTest: { scoreThr: 0.05, iouThr: 0.5, maxPerImg: 100, minSize: null, maskThr: 0.5, paste: 'grid_sample' },
  input: { scale: [1333, 800], rounding: 'round', sizeDivisor: 32 },
};

/**
 * torchvision 0.14 `MaskRCNN` defaults. The class layout of the weights is the canonical one
 * (background last, no background rows), which is what src/io's torchvision-maskrcnn key map makes
 * of torchvision checkpoints; `background: 'first'`, `reg_with_background` and `with_background`
 * read weights kept in torchvision's own layout instead (the same detections).
 */
export const TORCHVISION_CONVENTIONS: ConventionValues = {
  anchors: { scales: [8], ratios: [0.5, 1, 2], round: true, centerOffset: 0, strideMode: 'input_over_feature' },
  rpnCoder: { type: 'torchvision', weights: [1, 1, 1, 1], clip: Math.log(1000 / 16) },
  rcnnCoder: { type: 'torchvision', weights: [10, 10, 5, 5], clip: Math.log(1000 / 16) },
  rpnTest: { nmsPre: 1000, maxPerImg: 1000, iouThr: 0.7, minSize: 1e-3, minSizeInclusive: true },
  roiAlign: { samplingRatio: 2, aligned: false },
  levelMapper: { type: 'torchvision', canonicalScale: 224, canonicalLevel: 4 },
  background: 'last',
  regWithBackground: false,
  maskWithBackground: false,
  rcnnTest: { scoreThr: 0.05, iouThr: 0.5, maxPerImg: 100, minSize: 1e-2, maskThr: 0.5, paste: 'torchvision' },
  input: { scale: [1333, 800], rounding: 'floor', sizeDivisor: 32 },
};

/** The convention values of `c`: its profile with every value the config sets applied. */
export function conventionValues(c: DetectorConfig): ConventionValues {
  const p = c.conventions === 'torchvision' ? TORCHVISION_CONVENTIONS : MMDET_CONVENTIONS;
  const ag = c.rpn_head?.anchor_generator ?? {};
  const rt = c.rpn_head?.test ?? {};
  const bt = c.roi_head?.test ?? {};
  const inp = c.input;
  const lm = c.roi_head?.level_mapper;
  return {
    anchors: {
      scales: ag.scales ?? p.anchors.scales,
      ratios: ag.ratios ?? p.anchors.ratios,
      round: ag.round ?? p.anchors.round,
      centerOffset: ag.center_offset ?? p.anchors.centerOffset,
      strideMode: ag.stride_mode ?? p.anchors.strideMode,
    },
    rpnCoder: coder(c.rpn_head?.bbox_coder, p.rpnCoder),
    rcnnCoder: coder(bboxHeadConfigs(c)[0].bbox_coder, p.rcnnCoder),
    rpnTest: {
      nmsPre: rt.nms_pre ?? p.rpnTest.nmsPre,
      maxPerImg: rt.max_per_img ?? p.rpnTest.maxPerImg,
      iouThr: rt.iou_threshold ?? p.rpnTest.iouThr,
      minSize: rt.min_bbox_size ?? p.rpnTest.minSize,
      minSizeInclusive: rt.min_size_inclusive ?? p.rpnTest.minSizeInclusive,
    },
    roiAlign: p.roiAlign,
    levelMapper: lm === undefined ? p.levelMapper
      : lm.type === 'mmdet' ? { type: 'mmdet', finestScale: lm.finest_scale }
        : { type: 'torchvision', canonicalScale: lm.canonical_scale, canonicalLevel: lm.canonical_level },
    background: bboxHeadConfigs(c)[0].background ?? p.background,
    regWithBackground: bboxHeadConfigs(c)[0].reg_with_background ?? p.regWithBackground,
    maskWithBackground: c.roi_head?.mask_head?.with_background ?? p.maskWithBackground,
    rcnnTest: {
      scoreThr: bt.score_thr ?? p.rcnnTest.scoreThr,
      iouThr: bt.iou_threshold ?? p.rcnnTest.iouThr,
      maxPerImg: bt.max_per_img ?? p.rcnnTest.maxPerImg,
      minSize: bt.min_bbox_size === undefined ? p.rcnnTest.minSize : bt.min_bbox_size,
      maskThr: bt.mask_thr_binary ?? p.rcnnTest.maskThr,
      paste: bt.paste ?? p.rcnnTest.paste,
    },
    input: {
      scale: inp.scale === undefined ? p.input.scale : inp.scale,
      rounding: inp.rounding ?? p.input.rounding,
      sizeDivisor: inp.size_divisor ?? p.input.sizeDivisor,
    },
  };
}

function coder(c: z.output<typeof coderSchema> | undefined, dflt: BoxCoderOptions): BoxCoderOptions {
  if (!c) return dflt;
  if (c.type === 'mmdet') {
    const base = dflt.type === 'mmdet' ? dflt : MMDET_CONVENTIONS.rcnnCoder as Extract<BoxCoderOptions, { type: 'mmdet' }>;
    return { type: 'mmdet', means: c.means ?? base.means, stds: c.stds ?? base.stds, clip: c.clip ?? base.clip };
  }
  const base = dflt.type === 'torchvision' ? dflt : TORCHVISION_CONVENTIONS.rcnnCoder as Extract<BoxCoderOptions, { type: 'torchvision' }>;
  return { type: 'torchvision', weights: c.weights ?? base.weights, clip: c.clip ?? base.clip };
}

/**
 * The box coder of each RCNN stage: Mask R-CNN's one, or for a cascade each stage's own
 * `bbox_coder`, else mmdetection's coder with the stage's target stds (CASCADE_STAGE_STDS, halved
 * again for every stage past the third).
 */
export function stageCoders(c: DetectorConfig): BoxCoderOptions[] {
  const v = conventionValues(c);
  if (c.type === 'mask_rcnn') return [v.rcnnCoder];
  return bboxHeadConfigs(c).map((h, s) => {
    const k = Math.min(s, CASCADE_STAGE_STDS.length - 1);
    const stds = CASCADE_STAGE_STDS[k].map((x) => x / 2 ** (s - k)) as [number, number, number, number];
    const dflt: BoxCoderOptions = v.rcnnCoder.type === 'mmdet' ? { ...v.rcnnCoder, stds } : v.rcnnCoder;
    return coder(h.bbox_coder, dflt);
  });
}

/** RoIAlign settings of the box (7) or mask (14) branch. */
export function roiAlignValues(c: DetectorConfig, branch: 'bbox' | 'mask'): { output: number; samplingRatio: number; aligned: boolean } {
  const p = conventionValues(c).roiAlign;
  const r = (branch === 'bbox' ? c.roi_head?.bbox_roi : c.roi_head?.mask_roi) ?? {};
  return { output: r.output_size ?? (branch === 'bbox' ? 7 : 14), samplingRatio: r.sampling_ratio ?? p.samplingRatio, aligned: r.aligned ?? p.aligned };
}
