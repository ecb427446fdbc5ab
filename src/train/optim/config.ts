/**
 * Config schema of the optimiser and lr schedule (mmcv names, snake_case like the model configs),
 * with the official ConvNeXt fine-tuning defaults, and the build into an AdamW.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ParamRef } from '../../core/params.js';
import { AdamW } from './adamw.js';
import { buildParamGroups, DEFAULT_NO_DECAY_ROLES } from './param-groups.js';
import type { ScheduleConfig } from './schedule.js';

const posInt = z.number().int().positive();

const warmupSchema = z
  .object({
    type: z.enum(['linear', 'constant', 'exp']).default('linear'),
    iters: z.number().int().min(0),
    ratio: z.number().gt(0).max(1),
  })
  .strict();

/** lr schedule (mmcv `lr_config`, iteration based). */
export const scheduleSchema = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('fixed'), warmup: warmupSchema.optional() }).strict(),
  z.object({
    policy: z.literal('step'),
    step: z.union([posInt, z.array(posInt).min(1)]),
    gamma: z.number().positive().default(0.1),
    min_lr: z.number().min(0).optional(),
    warmup: warmupSchema.optional(),
  }).strict(),
  z.object({
    policy: z.literal('poly'),
    max_iters: posInt,
    power: z.number().positive().default(1),
    min_lr: z.number().min(0).default(0),
    warmup: warmupSchema.optional(),
  }).strict(),
  z.object({
    policy: z.literal('cosine'),
    max_iters: posInt,
    min_lr: z.number().min(0).optional(),
    min_lr_ratio: z.number().min(0).optional(),
    warmup: warmupSchema.optional(),
  }).strict(),
]);

/** Official ConvNeXt fine-tuning optimiser defaults (AdamW, lr 1e-4, wd 0.05). */
export const OPTIMIZER_DEFAULTS = { lr: 1e-4, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weight_decay: 0.05 } as const;

/** Optimiser config (mmcv `optimizer` + `paramwise_cfg` + `optimizer_config.grad_clip`). */
export const optimizerSchema = z
  .object({
    type: z.literal('adamw').default('adamw'),
    lr: z.number().positive().default(OPTIMIZER_DEFAULTS.lr),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([...OPTIMIZER_DEFAULTS.betas]),
    eps: z.number().positive().default(OPTIMIZER_DEFAULTS.eps),
    weight_decay: z.number().min(0).default(OPTIMIZER_DEFAULTS.weight_decay),
    /** Parameter roles without weight decay. */
    no_decay_roles: z.array(z.enum(['weight', 'bias', 'norm', 'layerScale'])).default([...DEFAULT_NO_DECAY_ROLES] as Array<'norm' | 'bias' | 'layerScale'>),
    /** ConvNeXt layer-wise / stage-wise lr decay (official paramwise_cfg). */
    layer_decay: z
      .object({ decay_rate: z.number().gt(0).max(1), num_layers: posInt, decay_type: z.enum(['layer_wise', 'stage_wise']).default('layer_wise') })
      .strict()
      .optional(),
    /** Clip gradients to this global L2 norm. */
    grad_clip: z.object({ max_norm: z.number().positive() }).strict().optional(),
  })
  .strict();

export type OptimizerConfig = z.output<typeof optimizerSchema>;
export type ScheduleConfigInput = z.output<typeof scheduleSchema>;

/** Schedule config (snake_case) → {@link ScheduleConfig}. */
export function toSchedule(c: ScheduleConfigInput): ScheduleConfig {
  const warmup = c.warmup ? { type: c.warmup.type, iters: c.warmup.iters, ratio: c.warmup.ratio } : undefined;
  switch (c.policy) {
    case 'fixed':
      return { policy: 'fixed', warmup };
    case 'step':
      return { policy: 'step', step: c.step, gamma: c.gamma, minLr: c.min_lr, warmup };
    case 'poly':
      return { policy: 'poly', maxIters: c.max_iters, power: c.power, minLr: c.min_lr, warmup };
    case 'cosine':
      return { policy: 'cosine', maxIters: c.max_iters, minLr: c.min_lr, minLrRatio: c.min_lr_ratio, warmup };
  }
}

/**
 * The AdamW of a model: groups from the declared parameters (`refs`), its variables (`vars`,
 * TfjsParams.variables()), the schedule and which parameters are frozen (core/components
 * `backboneFrozen`).
 */
export function buildOptimizer(
  refs: readonly ParamRef[],
  vars: ReadonlyMap<string, tf.Variable>,
  cfg: OptimizerConfig,
  schedule: ScheduleConfigInput,
  frozen?: (name: string) => boolean,
): AdamW {
  const groups = buildParamGroups(refs, {
    weightDecay: cfg.weight_decay,
    noDecayRoles: cfg.no_decay_roles,
    frozen,
    layerDecay: cfg.layer_decay ? { rate: cfg.layer_decay.decay_rate, numLayers: cfg.layer_decay.num_layers, type: cfg.layer_decay.decay_type } : undefined,
  });
  return new AdamW(vars, groups, { lr: cfg.lr, betas: cfg.betas, eps: cfg.eps, schedule: toSchedule(schedule) });
}
