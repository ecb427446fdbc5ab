/**
 * Config schema of the semantic segmentor (mmsegmentation's EncoderDecoder): ConvNeXt backbone,
 * UPerHead decode head, optional FCNHead auxiliary head, test-time settings. Head input channels
 * are never written here: they come from the backbone's FeatureSpec (`in_index` picks levels).
 */
import { z } from 'zod';
import { convnextBackboneSchema } from './backbone.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './input.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const posInt = z.number().int().positive();
const hw = z.tuple([posInt, posInt]);

/** Defaults shared by the heads (mmsegmentation's UPerNet ConvNeXt config). */
export const SEG_HEAD_DEFAULTS = {
  uper: { channels: 512, pool_scales: [1, 2, 3, 6], dropout_ratio: 0.1, loss_weight: 1.0 },
  fcn: { in_index: 2, channels: 256, num_convs: 1, kernel_size: 3, dilation: 1, concat_input: false, dropout_ratio: 0.1, loss_weight: 0.4 },
} as const;

/** UPerHead: PPM on the last selected level, FPN over all of them, fused at the finest. */
export const uperHeadSchema = z
  .object({
    type: z.literal('uper'),
    /** Backbone outputs used, by position in `out_indices` order (default: all, finest first). */
    in_index: z.array(z.number().int().min(0)).min(2).optional(),
    channels: posInt.default(SEG_HEAD_DEFAULTS.uper.channels),
    pool_scales: z.array(posInt).min(1).default([...SEG_HEAD_DEFAULTS.uper.pool_scales]),
    /** Dropout before `conv_seg` (training only). */
    dropout_ratio: z.number().min(0).max(1).default(SEG_HEAD_DEFAULTS.uper.dropout_ratio),
    /** Weight of this head's cross-entropy in the training loss. */
    loss_weight: z.number().min(0).default(SEG_HEAD_DEFAULTS.uper.loss_weight),
    /** Per-class weights of the cross-entropy (mmseg `CrossEntropyLoss.class_weight`), one per class. */
    class_weight: z.array(z.number().min(0)).optional(),
  })
  .strict();

/** FCNHead (the auxiliary head): `num_convs` ConvModules on one level, then `conv_seg`. */
export const fcnHeadSchema = z
  .object({
    type: z.literal('fcn'),
    /** Backbone output used, by position in `out_indices` order. */
    in_index: z.number().int().min(0).default(SEG_HEAD_DEFAULTS.fcn.in_index),
    channels: posInt.default(SEG_HEAD_DEFAULTS.fcn.channels),
    num_convs: posInt.default(SEG_HEAD_DEFAULTS.fcn.num_convs),
    kernel_size: posInt.default(SEG_HEAD_DEFAULTS.fcn.kernel_size),
    dilation: posInt.default(SEG_HEAD_DEFAULTS.fcn.dilation),
    concat_input: z.boolean().default(SEG_HEAD_DEFAULTS.fcn.concat_input),
    dropout_ratio: z.number().min(0).max(1).default(SEG_HEAD_DEFAULTS.fcn.dropout_ratio),
    loss_weight: z.number().min(0).default(SEG_HEAD_DEFAULTS.fcn.loss_weight),
    /** Per-class weights of the cross-entropy, one per class. */
    class_weight: z.array(z.number().min(0)).optional(),
  })
  .strict()
  .refine((c) => c.kernel_size % 2 === 1, { message: 'kernel_size must be odd', path: ['kernel_size'] });

/** Preprocessing: mmsegmentation's test pipeline (Resize keep_ratio, Normalize). */
export const segInputSchema = z
  .object({
    mean: rgb.default([...IMAGENET_MEAN]),
    std: rgb.default([...IMAGENET_STD]),
    /**
     * mmseg `img_scale` (long, short) with keep_ratio: the image is scaled by
     * min(long / long side, short / short side) before inference; null keeps the image size.
     */
    test_scale: hw.nullable().default(null),
  })
  .strict();

/** How logits are computed: one pass over the whole image, or overlapping crops averaged. */
export const segTestSchema = z
  .object({
    mode: z.enum(['whole', 'slide']).default('whole'),
    /** Slide window (height, width). */
    crop_size: hw.default([512, 512]),
    /** Slide step (height, width). */
    stride: hw.default([341, 341]),
  })
  .strict()
  .refine((c) => c.stride[0] <= c.crop_size[0] && c.stride[1] <= c.crop_size[1], {
    message: 'stride must not exceed crop_size (windows would leave gaps)',
    path: ['stride'],
  });

/** Test-time augmentation (`--tta`): scales of `test_scale` (or of the image) and horizontal flip. */
export const segTtaSchema = z
  .object({
    scales: z.array(z.number().positive()).min(1).default([0.5, 0.75, 1.0, 1.25, 1.5, 1.75]),
    flip: z.boolean().default(true),
  })
  .strict();

/** Ground-truth conventions of the dataset, for evaluation (and training). */
export const segDatasetSchema = z
  .object({
    /** ADE20K: label 0 is "other" and ignored, labels 1..150 become classes 0..149. */
    reduce_zero_label: z.boolean().default(false),
    ignore_index: z.number().int().min(0).default(255),
  })
  .strict();

export const segmentorSchema = z
  .object({
    type: z.literal('segmentor'),
    backbone: convnextBackboneSchema,
    decode_head: uperHeadSchema,
    auxiliary_head: fcnHeadSchema.optional(),
    num_classes: posInt,
    /** Class names: 'ade20k' for the bundled list, or an explicit list. */
    class_names: z.union([z.literal('ade20k'), z.array(z.string())]).optional(),
    /** Colours of the overlay: 'ade20k', or one [r, g, b] per class; generated when omitted. */
    palette: z.union([z.literal('ade20k'), z.array(rgb)]).optional(),
    input: segInputSchema.default({ mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], test_scale: null }),
    test: segTestSchema.default({ mode: 'whole', crop_size: [512, 512], stride: [341, 341] }),
    tta: segTtaSchema.default({ scales: [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], flip: true }),
    dataset: segDatasetSchema.default({ reduce_zero_label: false, ignore_index: 255 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const outs = c.backbone.out_indices;
    if (!outs) {
      ctx.addIssue({ code: 'custom', path: ['backbone', 'out_indices'], message: 'a segmentor needs out_indices (e.g. [0, 1, 2, 3])' });
      return;
    }
    const levels = c.decode_head.in_index ?? outs.map((_, i) => i);
    if (levels.length < 2) {
      ctx.addIssue({ code: 'custom', path: ['decode_head', 'in_index'], message: 'UPerHead needs at least two levels' });
    }
    levels.forEach((i, k) => {
      if (i >= outs.length) {
        ctx.addIssue({ code: 'custom', path: ['decode_head', 'in_index', k], message: `level ${i} does not exist: the backbone has ${outs.length} outputs (out_indices ${JSON.stringify(outs)})` });
      }
      if (k > 0 && i <= levels[k - 1]) {
        ctx.addIssue({ code: 'custom', path: ['decode_head', 'in_index', k], message: 'in_index must increase (finest level first)' });
      }
    });
    if (c.auxiliary_head && c.auxiliary_head.in_index >= outs.length) {
      ctx.addIssue({ code: 'custom', path: ['auxiliary_head', 'in_index'], message: `level ${c.auxiliary_head.in_index} does not exist: the backbone has ${outs.length} outputs (out_indices ${JSON.stringify(outs)})` });
    }
    if (c.class_names === 'ade20k' && c.num_classes !== 150) {
      ctx.addIssue({ code: 'custom', path: ['class_names'], message: `'ade20k' names 150 classes but num_classes is ${c.num_classes}` });
    }
    if (Array.isArray(c.class_names) && c.class_names.length !== c.num_classes) {
      ctx.addIssue({ code: 'custom', path: ['class_names'], message: `${c.class_names.length} names for ${c.num_classes} classes` });
    }
    if (c.palette === 'ade20k' && c.num_classes !== 150) {
      ctx.addIssue({ code: 'custom', path: ['palette'], message: `'ade20k' has 150 colours but num_classes is ${c.num_classes}` });
    }
    if (Array.isArray(c.palette) && c.palette.length !== c.num_classes) {
      ctx.addIssue({ code: 'custom', path: ['palette'], message: `${c.palette.length} colours for ${c.num_classes} classes` });
    }
    for (const head of ['decode_head', 'auxiliary_head'] as const) {
      const w = c[head]?.class_weight;
      if (w && w.length !== c.num_classes) {
        ctx.addIssue({ code: 'custom', path: [head, 'class_weight'], message: `${w.length} class weights for ${c.num_classes} classes` });
      }
    }
    if (c.num_classes > 65535) {
      ctx.addIssue({ code: 'custom', path: ['num_classes'], message: 'at most 65535 classes (label maps are 16-bit)' });
    }
  });

export type SegmentorConfig = z.output<typeof segmentorSchema>;
export type SegmentorConfigInput = z.input<typeof segmentorSchema>;
export type UPerHeadConfig = z.output<typeof uperHeadSchema>;
export type FCNHeadConfig = z.output<typeof fcnHeadSchema>;
