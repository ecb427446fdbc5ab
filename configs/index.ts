/** Every shipped named config. Each config family is a module; this index only collects them. */
import type { ModelConfigInput } from '../src/config/models.js';
import { classificationConfigs } from './classification.js';
import { detectionConfigs, detectionTestConfigs } from './detection.js';
import { segmentationConfigs, segmentationTestConfigs } from './segmentation.js';
import { testConfigs } from './test.js';
import { demoConfigs } from './demo.js';

export const NAMED_CONFIGS: Readonly<Record<string, ModelConfigInput>> = {
  ...classificationConfigs,
  ...segmentationConfigs,
  ...testConfigs,
  ...segmentationTestConfigs,
  ...detectionConfigs, ...detectionTestConfigs, ...demoConfigs,
};
