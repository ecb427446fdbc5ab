/** The network each model type exports and benchmarks (its main outputs). */
import type { Network } from '../core/model.js';
import type { ModelConfig } from '../config/models.js';
import { Classifier } from './classifier.js';
import { featureModel } from './features.js';
import { segmentorNetwork } from './segmentor.js';
import { Detector } from './detector.js';

/** The deployable network of a config: logits for classifiers, feature levels for feature extractors. */
export function mainNetwork(cfg: ModelConfig): Network {
  switch (cfg.type) {
    case 'classifier':
      return new Classifier(cfg).network();
    case 'features':
      return featureModel(cfg).network;
    case 'segmentor':
      return segmentorNetwork(cfg);
    case 'mask_rcnn':
      return new Detector(cfg).network();
  }
}

/** The input size a config is normally run at (height, width), if it has one. */
export function nativeSize(cfg: ModelConfig): [number, number] | null {
  if (cfg.type === 'classifier') return [cfg.input.crop, cfg.input.crop];
  // Segmentors run on any size; their slide window is the size they were trained at.
  if (cfg.type === 'segmentor') return [cfg.test.crop_size[0], cfg.test.crop_size[1]];
  return null;
}
