/** Config schema of the image classifier (a backbone + pooled LayerNorm + Linear head). */
import { z } from 'zod';
import { BACKBONES } from '../backbones/index.js';
import { classCount, classifierInputSchema } from './input.js';

export const classifierSchema = z
  .object({
    type: z.literal('classifier'),
    /** Any registered backbone (src/backbones/index.ts); its last stage feeds the head. */
    backbone: BACKBONES.schema(),
    num_classes: classCount,
    /** Class names: 'imagenet1k' for the bundled list, or an explicit list. */
    class_names: z.union([z.literal('imagenet1k'), z.array(z.string())]).optional(),
    input: classifierInputSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.backbone.out_indices) {
      ctx.addIssue({ code: 'custom', path: ['backbone', 'out_indices'], message: 'a classifier uses the last stage only; remove out_indices' });
    }
    if (c.class_names === 'imagenet1k' && c.num_classes !== 1000) {
      ctx.addIssue({ code: 'custom', path: ['class_names'], message: `'imagenet1k' names 1000 classes but num_classes is ${c.num_classes}` });
    }
    if (Array.isArray(c.class_names) && c.class_names.length !== c.num_classes) {
      ctx.addIssue({ code: 'custom', path: ['class_names'], message: `${c.class_names.length} names for ${c.num_classes} classes` });
    }
  });

export type ClassifierConfig = z.output<typeof classifierSchema>;
