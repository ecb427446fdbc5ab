/** Config schema of a bare dense backbone (feature extractor), as the official detection backbone. */
import { z } from 'zod';
import { BACKBONES } from '../backbones/index.js';
import { normalizeSchema } from './input.js';

export const featuresSchema = z
  .object({
    type: z.literal('features'),
    backbone: BACKBONES.schema(),
    input: normalizeSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.backbone.out_indices) {
      ctx.addIssue({ code: 'custom', path: ['backbone', 'out_indices'], message: 'a feature extractor needs out_indices (e.g. [0, 1, 2, 3])' });
    }
  });

export type FeaturesConfig = z.output<typeof featuresSchema>;
