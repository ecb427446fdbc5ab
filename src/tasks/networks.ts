/** The network each model type exports and benchmarks (its main outputs). */
import type { Network } from '../core/model.js';
import type { ModelConfig } from '../config/models.js';
import { Classifier } from './classifier.js';
import { featureModel } from './features.js';

/** The deployable network of a config: logits for classifiers, feature levels for feature extractors. */
export function mainNetwork(cfg: ModelConfig): Network {
  switch (cfg.type) {
    case 'classifier':
      return new Classifier(cfg).network();
    case 'features':
      return featureModel(cfg).network;
  }
}

/** The input size a config is normally run at (height, width), if it has one. */
export function nativeSize(cfg: ModelConfig): [number, number] | null {
  return cfg.type === 'classifier' ? [cfg.input.crop, cfg.input.crop] : null;
}
