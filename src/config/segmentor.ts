/**
 * Config schema of the semantic segmentor (mmsegmentation's EncoderDecoder): ConvNeXt backbone,
 * a decode head and an optional auxiliary head from the decode-head registry (UPerHead, FCNHead,
 * …), test-time settings. Head input channels are never written here: they come from the
 * backbone's FeatureSpec (`in_index` picks levels).
 */
import { z } from 'zod';
import { BACKBONES, backboneSpecs } from '../backbones/index.js';
import { DECODE_HEADS } from '../heads/seg/index.js';
import { classCount, IMAGENET_MEAN, IMAGENET_STD, imageSide } from './input.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const hw = z.tuple([imageSide, imageSide]);

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
    scales: z.array(z.number().positive().max(8)).min(1).default([0.5, 0.75, 1.0, 1.25, 1.5, 1.75]),
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
    /** Any registered backbone (src/backbones/index.ts) with dense outputs. */
    backbone: BACKBONES.schema(),
    /** Any registered decode head (src/heads/seg/index.ts): 'uper', 'fcn', … */
    decode_head: DECODE_HEADS.schema(),
    /** An auxiliary head trained beside it (any registered decode head; mmseg uses 'fcn'). */
    auxiliary_head: DECODE_HEADS.schema().optional(),
    num_classes: classCount,
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
    const levels = backboneSpecs(c.backbone);
    for (const head of ['decode_head', 'auxiliary_head'] as const) {
      const h = c[head];
      if (h) for (const i of DECODE_HEADS.check(levels, h)) ctx.addIssue({ code: 'custom', path: [head, ...i.path], message: i.message });
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
