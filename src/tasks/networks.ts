/**
 * The model registry: one entry per config `type`, pairing the type's zod schema with how to build
 * its deployable network (what `export` and `bench` run) and the size it normally runs at. The
 * mapped type makes a missing or mistyped entry a compile error.
 */
import type { z } from 'zod';
import type { Network } from '../core/model.js';
import { classifierSchema } from '../config/classifier.js';
import { cascadeMaskRcnnSchema, maskRcnnSchema } from '../config/detector.js';
import { featuresSchema } from '../config/features.js';
import type { ModelConfig, ModelType } from '../config/models.js';
import { segmentorSchema } from '../config/segmentor.js';
import { Classifier } from './classification/classifier.js';
import { Detector } from './detection/detector.js';
import { featureModel } from './features.js';
import { segmentorNetwork } from './segmentation/segmentor.js';

type ConfigOf<K extends ModelType> = Extract<ModelConfig, { type: K }>;

export interface ModelEntry<K extends ModelType> {
  readonly schema: z.ZodType<ConfigOf<K>, unknown>;
  /** The deployable network: logits, feature levels, segmentation logits or detections. */
  readonly build: (cfg: ConfigOf<K>) => Network;
  /** The input size the model normally runs at (height, width), if it has one. */
  readonly nativeSize: (cfg: ConfigOf<K>) => [number, number] | null;
}

export const MODEL_REGISTRY: { readonly [K in ModelType]: ModelEntry<K> } = {
  classifier: { schema: classifierSchema, build: (c) => new Classifier(c).network(), nativeSize: (c) => [c.input.crop, c.input.crop] },
  features: { schema: featuresSchema, build: (c) => featureModel(c).network, nativeSize: () => null },
  // Segmentors run on any size; their slide window is the size they were trained at.
  segmentor: { schema: segmentorSchema, build: (c) => segmentorNetwork(c), nativeSize: (c) => [c.test.crop_size[0], c.test.crop_size[1]] },
  mask_rcnn: { schema: maskRcnnSchema, build: (c) => new Detector(c).network(), nativeSize: () => null },
  cascade_mask_rcnn: { schema: cascadeMaskRcnnSchema, build: (c) => new Detector(c).network(), nativeSize: () => null },
};

function entry<K extends ModelType>(cfg: ConfigOf<K>): ModelEntry<K> {
  return MODEL_REGISTRY[cfg.type as K];
}

/** The deployable network of a config. */
export function mainNetwork(cfg: ModelConfig): Network {
  return entry(cfg).build(cfg);
}

/** The input size a config is normally run at (height, width), if it has one. */
export function nativeSize(cfg: ModelConfig): [number, number] | null {
  return entry(cfg).nativeSize(cfg);
}
