/**
 * Every model type: a discriminated union on `type`, so an unknown type or a typo fails at parse
 * time with its path. Tasks add their schema here.
 */
import { z } from 'zod';
import { classifierSchema } from './classifier.js';
import { featuresSchema } from './features.js';
import { segmentorSchema } from './segmentor.js';
import { cascadeMaskRcnnSchema, maskRcnnSchema } from './detector.js';

export const modelConfigSchema = z.discriminatedUnion('type', [classifierSchema, featuresSchema, segmentorSchema, maskRcnnSchema, cascadeMaskRcnnSchema]);

/** A validated model config (defaults filled in). */
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** A model config as written (defaults optional). */
export type ModelConfigInput = z.input<typeof modelConfigSchema>;
export type ModelType = ModelConfig['type'];

/** Prefix of the backbone's parameters inside each model type (official and mm* checkpoints). */
export function backbonePrefix(c: ModelConfig): string {
  return c.type === 'classifier' || c.type === 'features' ? '' : 'backbone';
}
