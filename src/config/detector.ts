/**
 * Config schemas of Mask R-CNN and Cascade Mask R-CNN (backbone + neck + RPN + box and mask heads) and their resolution into
 * constructor options. Every numeric convention where mmdetection and torchvision differ
 * (the conventions table of the README) is a config value; `conventions` picks the set that unset values come from:
 * `mmdet` (the ConvNeXt release's, the default) or `torchvision`. Channel counts and strides are
 * never written here: they come from the backbone's FeatureSpec.
 */
import { z } from 'zod';
import { MMDET_WH_CLIP, TORCHVISION_WH_CLIP } from '../core/det/coder.js';
import { MMDET_RCNN_CODER, TORCHVISION_RCNN_CODER } from '../core/det/coder-config.js';
import { roiTestValues, type RoiConventions } from '../heads/roi/config.js';
import { ROI_HEADS } from '../heads/roi/index.js';
import type { RpnConventions } from '../heads/rpn/config.js';
import { RPN_HEADS } from '../heads/rpn/index.js';
import { BACKBONES, backboneSpecs } from '../backbones/index.js';
import type { BackboneConfig } from '../core/components.js';
import type { RegisteredConfig } from '../core/registry.js';
import { NECKS } from '../necks/index.js';
import { classCount, IMAGENET_MEAN, IMAGENET_STD, imageSide } from './input.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const posInt = z.number().int().positive();

export const CONVENTIONS = ['mmdet', 'torchvision'] as const;
export type Conventions = (typeof CONVENTIONS)[number];

const inputSchema = z
  .object({
    /** Normalisation on the 0–255 scale (torchvision's 0–1 ImageNet statistics × 255). */
    mean: rgb.default([...IMAGENET_MEAN]),
    std: rgb.default([...IMAGENET_STD]),
    /** (long, short) with keep ratio: scale by min(long / long side, short / short side); null: no resize. */
    scale: z.tuple([imageSide, imageSide]).nullable().optional(),
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
  num_classes: classCount,
  /** Class names: 'coco' (the 80 COCO classes), or an explicit list. */
  class_names: z.union([z.literal('coco'), z.array(z.string())]).optional(),
  /** Any registered neck (src/necks/index.ts); unset: an FPN of 256 channels with one extra level. */
  neck: NECKS.schema().optional(),
  /** Any registered RPN head (src/heads/rpn/index.ts); 'rpn' when `type` is unset. */
  rpn_head: RPN_HEADS.schema({ defaultType: 'rpn' }).prefault({}),
  input: inputSchema,
};

/**
 * Any registered RoI head (src/heads/roi/index.ts) under `roi_head`; one that leaves `type` unset
 * is `defaultType`'s (Mask R-CNN: 'standard', Cascade Mask R-CNN: 'cascade').
 */
function roiHeadField(defaultType: string) {
  return ROI_HEADS.schema({ defaultType }).prefault({});
}

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

/** Mask R-CNN (mmdetection `MaskRCNN`): a standard RoI head unless `roi_head.type` says otherwise. */
export const maskRcnnSchema = z
  .object({ type: z.literal('mask_rcnn'), ...detectorFields, roi_head: roiHeadField('standard') })
  .strict()
  .superRefine(commonRules);

/**
 * Cascade Mask R-CNN (mmdetection 2.x `CascadeRCNN`): a cascade RoI head (`roi_head.type`
 * 'cascade' unless set; its unset values follow the official ConvNeXt Cascade configs).
 */
export const cascadeMaskRcnnSchema = z
  .object({ type: z.literal('cascade_mask_rcnn'), ...detectorFields, roi_head: roiHeadField('cascade') })
  .strict()
  .superRefine(commonRules);

export type MaskRcnnConfig = z.output<typeof maskRcnnSchema>;
export type CascadeMaskRcnnConfig = z.output<typeof cascadeMaskRcnnSchema>;
/** Any two-stage detector config. */
export type DetectorConfig = MaskRcnnConfig | CascadeMaskRcnnConfig;
export type DetectorConfigInput = z.input<typeof maskRcnnSchema> | z.input<typeof cascadeMaskRcnnSchema>;

/** The model types that are detectors. */
export const DETECTOR_TYPES = ['mask_rcnn', 'cascade_mask_rcnn'] as const;

/** True when a model config is a detector. */
export function isDetectorConfig(c: { type: string }): c is DetectorConfig {
  return (DETECTOR_TYPES as readonly string[]).includes(c.type);
}

/**
 * Every convention-dependent value, fully specified: the RPN head's (`RpnConventions`) and the
 * RoI head's (`RoiConventions`), which their registry entries apply their configs' settings to,
 * and the input's.
 */
export interface ConventionValues extends RpnConventions, RoiConventions {
  input: { scale: [number, number] | null; rounding: 'round' | 'floor'; sizeDivisor: number };
}

/** mmdetection 2.x, as the ConvNeXt Mask R-CNN configs set it. */
export const MMDET_CONVENTIONS: ConventionValues = {
  anchors: { scales: [8], ratios: [0.5, 1, 2], round: false, centerOffset: 0, strideMode: 'nominal' },
  rpnCoder: { type: 'mmdet', means: [0, 0, 0, 0], stds: [1, 1, 1, 1], clip: MMDET_WH_CLIP },
  rcnnCoder: MMDET_RCNN_CODER,
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
  rpnCoder: { type: 'torchvision', weights: [1, 1, 1, 1], clip: TORCHVISION_WH_CLIP },
  rcnnCoder: TORCHVISION_RCNN_CODER,
  rpnTest: { nmsPre: 1000, maxPerImg: 1000, iouThr: 0.7, minSize: 1e-3, minSizeInclusive: true },
  roiAlign: { samplingRatio: 2, aligned: false },
  levelMapper: { type: 'torchvision', canonicalScale: 224, canonicalLevel: 4 },
  background: 'last',
  regWithBackground: false,
  maskWithBackground: false,
  rcnnTest: { scoreThr: 0.05, iouThr: 0.5, maxPerImg: 100, minSize: 1e-2, maskThr: 0.5, paste: 'torchvision' },
  input: { scale: [1333, 800], rounding: 'floor', sizeDivisor: 32 },
};

/**
 * The convention values of `c`: its profile with the config's input settings applied. The RPN
 * and RoI head values stay the profile's: each head's entry applies its own config's settings
 * (see {@link maskPasteValues} for the mask paste).
 */
export function conventionValues(c: DetectorConfig): ConventionValues {
  const p = c.conventions === 'torchvision' ? TORCHVISION_CONVENTIONS : MMDET_CONVENTIONS;
  const inp = c.input;
  return {
    ...p,
    input: {
      scale: inp.scale === undefined ? p.input.scale : inp.scale,
      rounding: inp.rounding ?? p.input.rounding,
      sizeDivisor: inp.size_divisor ?? p.input.sizeDivisor,
    },
  };
}

/** How masks are pasted at the original size: the RoI head's test settings, the profile's where unset. */
export function maskPasteValues(c: DetectorConfig): { paste: 'grid_sample' | 'torchvision'; maskThr: number } {
  const t = roiTestValues(c.roi_head, conventionValues(c));
  return { paste: t.paste, maskThr: t.maskThr };
}
