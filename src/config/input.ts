/** Image input settings shared by every task (0–255 RGB, mmdetection/mmsegmentation style). */
import { z } from 'zod';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

/** Largest image side a config may ask for (input scales, crops, windows). */
export const MAX_INPUT_SIDE = 16384;

/** Most classes a config may declare (ImageNet-22k has 21,841). */
export const MAX_CLASSES = 100_000;

/** A positive integer image side of at most {@link MAX_INPUT_SIDE} pixels. */
export const imageSide = z.number().int().positive().max(MAX_INPUT_SIDE, { error: `expected at most ${MAX_INPUT_SIDE} pixels` });

/** A positive class count of at most {@link MAX_CLASSES}. */
export const classCount = z.number().int().positive().max(MAX_CLASSES, { error: `expected at most ${MAX_CLASSES} classes` });

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
    resize: imageSide.default(256),
    crop: imageSide.default(224),
  })
  .strict()
  .refine((c) => c.crop <= c.resize, { message: 'crop must not exceed resize', path: ['crop'] });

export type ClassifierInput = z.output<typeof classifierInputSchema>;
