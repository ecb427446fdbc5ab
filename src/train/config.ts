/**
 * Training recipes: which model, how to feed it, optimise it, evaluate it and checkpoint it. A
 * recipe names a model config (or inlines one); `convnext train --config NAME` takes a named
 * recipe (configs/demo.ts) or any model config with the default recipe of its task. `--set`
 * overrides reach every key, the model's included (`model.backbone.drop_path_rate=0.1`).
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { ENGINES } from '../core/engine.js';
import type { ModelConfig } from '../config/models.js';
import { applyOverride, catalogNames, closeNames, type ConfigCatalog, formatIssues, isRecipeLike, validateConfig } from '../config/resolve.js';
import { rawConfig, readConfigFile } from '../config/config-file.js';
import { type DetPipeline, detPipelineSchema, type SegPipeline, segPipelineSchema } from '../data/pipeline.js';
import { type DetTrainConfig, detTrainSchema } from './det/config.js';
import { optimizerSchema, scheduleSchema, type OptimizerConfig, type ScheduleConfigInput } from './optim/config.js';

const posInt = z.number().int().positive();

export const trainRecipeSchema = z
  .object({
    /** A named model config, or the config itself. */
    model: z.union([z.string(), z.record(z.string(), z.unknown())]),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    batch_size: posInt.max(1024, { error: 'expected at most 1024 images per batch' }).default(2),
    /** Total optimiser steps. */
    max_steps: posInt.default(1000),
    optimizer: optimizerSchema.prefault({}),
    schedule: scheduleSchema.default({ policy: 'fixed' }),
    /** Data pipeline of the task (detPipelineSchema or segPipelineSchema keys). */
    pipeline: z.record(z.string(), z.unknown()).default({}),
    /** Mask R-CNN train_cfg and loss settings (detection only). */
    det_train: z.record(z.string(), z.unknown()).default({}),
    eval: z
      .object({
        /** Evaluate every this many steps (0: only at the end); needs --val-data. */
        interval: z.number().int().min(0).default(0),
        /** Evaluate on the first n images only. */
        max_images: posInt.optional(),
        engine: z.enum(ENGINES).default('ort'),
      })
      .strict()
      .prefault({}),
    checkpoint: z
      .object({
        interval: posInt.default(500),
        /** Checkpoints kept (older ones are deleted). */
        keep: posInt.default(2),
      })
      .strict()
      .prefault({}),
    /** Steps between JSONL log lines. */
    log_interval: posInt.default(10),
    /** Batches prepared ahead of the compute. */
    prefetch: posInt.max(64, { error: 'expected at most 64 batches ahead' }).default(2),
    /**
     * Weights to start from (missing parameters are initialised, e.g. a backbone checkpoint): a
     * file, or a list of files bound in order (a later file's parameter replaces an earlier one's).
     */
    init_weights: z
      .union(
        [
          z.string().min(1, { error: 'expected a file name' }),
          z.array(z.string().min(1, { error: 'expected a file name' })).min(1, { error: 'expected at least one file' }).max(16, { error: 'expected at most 16 files' }),
        ],
        { error: 'expected a file or a list of files' },
      )
      .optional(),
  })
  .strict();

export type TrainRecipeInput = z.input<typeof trainRecipeSchema>;

/** A validated recipe with its model config and task-specific parts parsed. */
export interface TrainRecipe {
  name: string;
  /** The recipe as JSON with the model config inlined (what checkpoints record). */
  raw: Record<string, unknown>;
  model: ModelConfig & { type: 'mask_rcnn' | 'cascade_mask_rcnn' | 'segmentor' };
  task: 'det' | 'seg';
  seed: number;
  batchSize: number;
  maxSteps: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfigInput;
  detPipeline: DetPipeline;
  segPipeline: SegPipeline;
  detTrain: DetTrainConfig;
  eval: { interval: number; maxImages?: number; engine: (typeof ENGINES)[number] };
  checkpoint: { interval: number; keep: number };
  logInterval: number;
  prefetch: number;
  /** Files to start from, merged in order (later files win). */
  initWeights?: string[];
}

/** Named model configs and training recipes that recipe resolution looks names up in (the shipped ones: configs/index.ts). */
export interface RecipeCatalog {
  models: ConfigCatalog;
  recipes: Readonly<Record<string, TrainRecipeInput>>;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new UserError(`${where}: ${formatIssues(r.error)}`);
  return r.data;
}

/** Resolves a recipe name of `catalog` (or a model config name, or a JSON file) with `--set` overrides. */
export function resolveRecipeFrom(catalog: RecipeCatalog, name: string, overrides: readonly string[] = []): TrainRecipe {
  let raw: Record<string, unknown>;
  const recipe = Object.hasOwn(catalog.recipes, name) ? catalog.recipes[name] : undefined;
  if (recipe) raw = structuredClone(recipe) as Record<string, unknown>;
  else if (name.endsWith('.json')) {
    // A training run's saved config.json is a whole recipe; any other JSON file a model config.
    const file = readConfigFile(name);
    raw = isRecipeLike(file) ? file : { model: file };
  } else if (catalog.models[name]) raw = { model: name };
  else throw new UserError(`unknown config '${name}' (did you mean ${closeNames(catalogNames(catalog.models), name).join(', ')}? recipes: ${Object.keys(catalog.recipes).sort().join(', ')})`);
  if (typeof raw.model === 'string') raw.model = rawConfig(catalog.models, raw.model) as Record<string, unknown>;
  for (const o of overrides) applyOverride(raw, o);
  const origin = overrides.length ? `${name} (with --set ${overrides.join(' ')})` : name;
  const r = parseWith(trainRecipeSchema, raw, `config ${origin}`);
  const model = validateConfig(r.model, `${origin}: model`);
  if (model.type !== 'mask_rcnn' && model.type !== 'cascade_mask_rcnn' && model.type !== 'segmentor') {
    throw new UserError(`config ${origin}: a ${model.type} model cannot be trained by convnext train (Mask R-CNN, Cascade Mask R-CNN and segmentors can)`);
  }
  const task = model.type === 'segmentor' ? 'seg' : 'det';
  if (task === 'seg' && Object.keys(r.det_train).length > 0) throw new UserError(`config ${origin}: det_train applies to detectors only`);
  return {
    name,
    raw,
    model,
    task,
    seed: r.seed,
    batchSize: r.batch_size,
    maxSteps: r.max_steps,
    optimizer: r.optimizer,
    schedule: r.schedule,
    detPipeline: parseWith(detPipelineSchema, task === 'det' ? r.pipeline : {}, `config ${origin}: pipeline`),
    segPipeline: parseWith(segPipelineSchema, task === 'seg' ? r.pipeline : {}, `config ${origin}: pipeline`),
    detTrain: parseWith(detTrainSchema, r.det_train, `config ${origin}: det_train`),
    eval: { interval: r.eval.interval, maxImages: r.eval.max_images, engine: r.eval.engine },
    checkpoint: r.checkpoint,
    logInterval: r.log_interval,
    prefetch: r.prefetch,
    initWeights: r.init_weights === undefined ? undefined : typeof r.init_weights === 'string' ? [r.init_weights] : r.init_weights,
  };
}
