/**
 * Every shipped named config and training recipe. Each config family is a module; this index
 * collects them and binds resolution to them (library code takes a catalogue as a parameter).
 */
import type { ModelConfig, ModelConfigInput } from '../src/config/models.js';
import { catalogNames } from '../src/config/resolve.js';
import { resolveFrom } from '../src/config/config-file.js';
import { type RecipeCatalog, resolveRecipeFrom, type TrainRecipe } from '../src/train/config.js';
import { classificationConfigs } from './classification.js';
import { detectionConfigs, detectionTestConfigs } from './detection.js';
import { segmentationConfigs, segmentationTestConfigs } from './segmentation.js';
import { testConfigs } from './test.js';
import { demoConfigs, TRAIN_RECIPES } from './demo.js';

export const NAMED_CONFIGS: Readonly<Record<string, ModelConfigInput>> = {
  ...classificationConfigs,
  ...segmentationConfigs,
  ...testConfigs,
  ...segmentationTestConfigs,
  ...detectionConfigs, ...detectionTestConfigs, ...demoConfigs,
};

/** The shipped configs and recipes, for recipe resolution. */
export const CATALOG: RecipeCatalog = { models: NAMED_CONFIGS, recipes: TRAIN_RECIPES };

/** Names of all shipped configs, sorted. */
export function configNames(): string[] {
  return catalogNames(NAMED_CONFIGS);
}

/** Names of the shipped training recipes, sorted. */
export function recipeNames(): string[] {
  return Object.keys(TRAIN_RECIPES).sort();
}

/** Resolves a shipped config name (or a JSON file) with `--set` overrides into a validated config. */
export function resolveConfig(name: string, overrides: readonly string[] = []): ModelConfig {
  return resolveFrom(NAMED_CONFIGS, name, overrides);
}

/** Resolves a shipped recipe or config name (or a JSON file) with `--set` overrides into a training recipe. */
export function resolveRecipe(name: string, overrides: readonly string[] = []): TrainRecipe {
  return resolveRecipeFrom(CATALOG, name, overrides);
}
