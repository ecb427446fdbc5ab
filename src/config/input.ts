/** Image input settings shared by every task (0–255 RGB, mmdetection/mmsegmentation style). */
import { z } from 'zod';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

/** ImageNet statistics on the 0–255 scale (mmdetection/mmsegmentation defaults). */
export const IMAGENET_MEAN = [123.675, 116.28, 103.53] as const;
export const IMAGENET_STD = [58.395, 57.12, 57.375] as const;

export const normalizeSchema = z
  .object({
    mean: rgb.default([...IMAGENET_MEAN]),
    std: rgb.default([...IMAGENET_STD]),
  })
  .strict();

/** Classification input: resize the shorter side, then a centre crop (official eval: 224 / 0.875). */
export const classifierInputSchema = normalizeSchema
  .extend({
    resize: z.number().int().positive().default(256),
    crop: z.number().int().positive().default(224),
  })
  .strict()
  .refine((c) => c.crop <= c.resize, { message: 'crop must not exceed resize', path: ['crop'] });

export type ClassifierInput = z.output<typeof classifierInputSchema>;
