/**
 * Optimisation: parameter groups, AdamW, lr schedules and gradient clipping against PyTorch
 * (fixture tools/fixtures/gen_train_optim.py: torch.optim.AdamW, clip_grad_norm_, LinearLR warm-up
 * chained with MultiStepLR / PolynomialLR / CosineAnnealingLR); resumable state; the official
 * ConvNeXt layer-id mapping worked by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src/core/host-tensor.js';
import type { ParamRef, ParamRole } from '../../src/core/params.js';
import { UserError } from '../../src/core/errors.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { ConvNeXt } from '../../src/backbones/convnext.js';
import { backboneFrozen } from '../../src/core/components.js';
import { Scope } from '../../src/core/params.js';
import {
  AdamW, buildOptimizer, buildParamGroups, clipGradNorm, layerIdLayerWise, layerIdStageWise, layerScale, lrAt,
  optimizerSchema, type ScheduleConfig, scheduleSchema,
} from '../../src/train/optim/index.js';
import { compare, FIXTURES } from '../helpers.js';

/** The frozen-parameter predicate of a ConvNeXt with `frozenStages` under `backbone.` (what the trainer passes). */
function frozenAt(frozenStages: number): (name: string) => boolean {
  const b = new ConvNeXt(Scope.root().child('backbone'), { version: 1, depths: [1, 1, 1, 1], dims: [8, 8, 8, 8], frozenStages });
  return backboneFrozen(b, 'backbone');
}

interface FxCase {
  name: string;
  options: {
    lr: number; betas: [number, number]; eps: number; weight_decay: number; steps: number; clip?: number; frozen_stages?: number;
    layer_decay?: { rate: number; num_layers: number; type: 'layer_wise' | 'stage_wise' };
    schedule: { policy: 'step' | 'poly' | 'cosine'; step?: number[]; gamma?: number; max_iters?: number; power?: number; warmup_iters: number; warmup_ratio: number };
  };
  groups: Array<{ name: string; params: string[]; weightDecay: number; lrScale: number }>;
  lrs: number[][];
  norms: number[];
  steps: Record<string, number>;
}

let fx: { tensors: Map<string, HostTensor>; params: Array<{ name: string; shape: number[]; role: ParamRole }>; cases: FxCase[] };

beforeAll(async () => {
  const { tensors, metadata } = await readSafetensors(join(FIXTURES, 'train', 'optim.safetensors'));
  fx = { tensors, params: JSON.parse(metadata.params ?? '[]'), cases: JSON.parse(metadata.cases ?? '[]') };
});

function refs(): ParamRef[] {
  return fx.params.map((p) => ({ name: p.name, shape: p.shape, role: p.role, init: { kind: 'zeros' } }));
}

function scheduleOf(c: FxCase): ScheduleConfig {
  const s = c.options.schedule;
  const warmup = { type: 'linear' as const, iters: s.warmup_iters, ratio: s.warmup_ratio };
  if (s.policy === 'step') return { policy: 'step', step: s.step!, gamma: s.gamma, warmup };
  if (s.policy === 'poly') return { policy: 'poly', maxIters: s.max_iters!, power: s.power, warmup };
  return { policy: 'cosine', maxIters: s.max_iters!, warmup };
}

function makeVars(): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const p of fx.params) {
    const t = fx.tensors.get(`init.${p.name}`)!;
    vars.set(p.name, tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape), p.role !== 'buffer')));
  }
  return vars;
}

function gradsAt(c: FxCase, step: number, names: string[]): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const n of names) {
    const g = fx.tensors.get(`${c.name}.grad.${step}.${n}`);
    if (g) out.set(n, tf.tensor(g.data, g.shape));
  }
  return out;
}

function optimizerFor(c: FxCase, vars: Map<string, tf.Variable>): AdamW {
  const o = c.options;
  const groups = buildParamGroups(refs(), {
    weightDecay: o.weight_decay,
    frozen: frozenAt(o.frozen_stages ?? -1),
    layerDecay: o.layer_decay ? { rate: o.layer_decay.rate, numLayers: o.layer_decay.num_layers, type: o.layer_decay.type } : undefined,
  });
  return new AdamW(vars, groups, { lr: o.lr, betas: o.betas, eps: o.eps, schedule: scheduleOf(c) });
}

/** Runs steps [from, to) of a case; returns the clipped global norms. */
async function runSteps(c: FxCase, opt: AdamW, from: number, to: number): Promise<number[]> {
  const names = opt.groups.flatMap((g) => g.params);
  const norms: number[] = [];
  for (let s = from; s < to; s++) {
    const raw = gradsAt(c, s, names);
    let grads = raw;
    if (c.options.clip) {
      const clipped = clipGradNorm(raw, c.options.clip);
      norms.push((await clipped.totalNorm.data())[0]);
      clipped.totalNorm.dispose();
      grads = clipped.grads;
    }
    const lrErr = Math.max(...opt.groupLrs().map((v, i) => Math.abs(v - c.lrs[s][i]) / c.lrs[s][i]));
    expect(lrErr, `lrs at step ${s}: ${opt.groupLrs()} vs ${c.lrs[s]}`).toBeLessThan(1e-12);
    opt.step(grads);
    tf.dispose([...raw.values(), ...grads.values()]);
  }
  return norms;
}

async function expectFinal(c: FxCase, vars: Map<string, tf.Variable>, opt: AdamW): Promise<void> {
  for (const g of opt.groups) {
    for (const n of g.params) {
      const v = vars.get(n)!;
      const got: HostTensor = { shape: [...v.shape], data: (await v.data()) as Float32Array };
      const cmp = compare(got, fx.tensors.get(`${c.name}.final.${n}`)!);
      expect(cmp.rel, `${c.name} ${n}: rel ${cmp.rel}`).toBeLessThanOrEqual(1e-5);
    }
  }
  const state = await opt.state();
  expect(state.json.steps).toEqual(c.steps);
  for (const [k, t] of state.tensors) {
    expect(compare(t, fx.tensors.get(`${c.name}.${k}`)!).rel, k).toBeLessThanOrEqual(1e-5);
  }
}

describe.each(['cpu', 'wasm'] as const)('AdamW against PyTorch on %s', (backend) => {
  it.each([0, 1, 2])('case %i: groups, lrs, clipping norms, final parameters and moments', async (i) => {
    await tf.setBackend(backend);
    const c = fx.cases[i];
    const before = tf.memory().numTensors;
    const vars = makeVars();
    const opt = optimizerFor(c, vars);
    expect(opt.groups).toEqual(c.groups);
    const norms = await runSteps(c, opt, 0, c.options.steps);
    norms.forEach((n, s) => expect(Math.abs(n - c.norms[s]) / c.norms[s], `norm at step ${s}`).toBeLessThanOrEqual(1e-5));
    await expectFinal(c, vars, opt);
    // Frozen stages and buffers keep their initial values.
    for (const p of fx.params) {
      if (opt.groups.some((g) => g.params.includes(p.name))) continue;
      const init = fx.tensors.get(`init.${p.name}`)!;
      expect(Array.from((await vars.get(p.name)!.data()) as Float32Array)).toEqual(Array.from(init.data));
    }
    opt.dispose();
    for (const v of vars.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('resumable state', () => {
  it('5 steps, state to host and back into a new optimiser, 5 more = 10 straight (and PyTorch)', async () => {
    await tf.setBackend('cpu');
    const c = fx.cases[0];
    const vars = makeVars();
    const first = optimizerFor(c, vars);
    await runSteps(c, first, 0, 5);
    const state = await first.state();
    expect(state.json.iteration).toBe(5);
    first.dispose();
    // A fresh optimiser over the same variables (as after reloading the weights) resumes.
    const second = optimizerFor(c, vars);
    // The JSON part goes through text, as in a checkpoint file.
    second.loadState({ json: JSON.parse(JSON.stringify(state.json)) as typeof state.json, tensors: state.tensors });
    expect(second.iteration).toBe(5);
    await runSteps(c, second, 5, 10);
    await expectFinal(c, vars, second);
    second.dispose();
    for (const v of vars.values()) v.dispose();
  });

  it('refuses a state of another model or a corrupted one with a clear error', async () => {
    await tf.setBackend('cpu');
    const vars = makeVars();
    const c = fx.cases[0];
    const opt = optimizerFor(c, vars);
    await runSteps(c, opt, 0, 1);
    const state = await opt.state();
    const other = optimizerFor(fx.cases[2], vars);
    expect(() => other.loadState(state, 'ckpt.json')).toThrow(UserError);
    expect(() => other.loadState(state, 'ckpt.json')).toThrow(/ckpt.json: parameter groups differ/);
    const missing = { json: state.json, tensors: new Map([...state.tensors].slice(1)) };
    expect(() => optimizerFor(c, vars).loadState(missing, 'ckpt.json')).toThrow(/ckpt.json: missing exp_avg/);
    const bad = { json: { ...state.json, format: 'x' as 'convnext-adamw' }, tensors: state.tensors };
    expect(() => optimizerFor(c, vars).loadState(bad)).toThrow(/not a convnext AdamW state/);
    opt.dispose();
    other.dispose();
    for (const v of vars.values()) v.dispose();
  });
});

describe('ConvNeXt layer decay (official mapping, worked by hand)', () => {
  // ConvNeXt-T depths (3, 3, 9, 3), num_layers 6 (the official Mask R-CNN / UPerNet T configs).
  it('layer_wise ids: stem 0, stage 0 → 1, stage 1 (+ its downsample) → 2, stage 2 in threes from 3, stage 3 → 6, rest 7', () => {
    const cases: Array<[string, number]> = [
      ['backbone.downsample_layers.0.0.weight', 0],
      ['backbone.downsample_layers.0.1.bias', 0],
      ['backbone.stages.0.2.dwconv.weight', 1],
      ['backbone.downsample_layers.1.1.weight', 2],
      ['backbone.stages.1.0.pwconv1.weight', 2],
      ['backbone.downsample_layers.2.0.weight', 3],
      ['backbone.stages.2.0.norm.weight', 3],
      ['backbone.stages.2.2.gamma', 3],
      ['backbone.stages.2.3.dwconv.bias', 4],
      ['backbone.stages.2.8.pwconv2.weight', 5],
      ['backbone.downsample_layers.3.1.weight', 6],
      ['backbone.stages.3.2.grn.beta', 6],
      ['backbone.norm3.weight', 7],
      ['neck.lateral_convs.0.conv.weight', 7],
      ['decode_head.conv_seg.weight', 7],
      // Bare backbone / classifier names map the same way.
      ['stages.2.5.dwconv.weight', 4],
      ['head.weight', 7],
    ];
    for (const [name, id] of cases) expect(layerIdLayerWise(name, 6), name).toBe(id);
    // ConvNeXt-B style num_layers 12: stage 2 of 27 blocks spans ids 3 … 11, stage 3 is 12.
    expect(layerIdLayerWise('backbone.stages.2.26.dwconv.weight', 12)).toBe(11);
    expect(layerIdLayerWise('backbone.stages.3.0.dwconv.weight', 12)).toBe(12);
    expect(layerIdLayerWise('backbone.norm0.weight', 12)).toBe(13);
  });

  it('stage_wise ids: every downsample 0, stage i → i + 1, rest num_layers + 1', () => {
    expect(layerIdStageWise('backbone.downsample_layers.2.1.weight', 8)).toBe(0);
    expect(layerIdStageWise('backbone.stages.0.1.dwconv.weight', 8)).toBe(1);
    expect(layerIdStageWise('backbone.stages.3.0.dwconv.weight', 8)).toBe(4);
    expect(layerIdStageWise('auxiliary_head.conv_seg.weight', 8)).toBe(7);
  });

  it('lr scales: rate^(num_layers + 2 − id − 1), heads at 1', () => {
    const o = { rate: 0.95, numLayers: 6 };
    // id 7 (heads): 0.95^0 = 1; id 6 (stage 3): 0.95; stem: 0.95^7 ≈ 0.6983.
    expect(layerScale(7, o)).toBe(1);
    expect(layerScale(6, o)).toBeCloseTo(0.95, 12);
    expect(layerScale(0, o)).toBeCloseTo(0.95 ** 7, 12);
  });

  it('groups: role-based weight decay, buffers out, official group names', () => {
    const r = (name: string, role: ParamRole): ParamRef => ({ name, shape: [1], role, init: { kind: 'zeros' } });
    const groups = buildParamGroups([
      r('backbone.downsample_layers.0.0.weight', 'weight'),
      r('backbone.downsample_layers.0.0.bias', 'bias'),
      r('backbone.stages.0.0.gamma', 'layerScale'),
      r('decode_head.bn.running_var', 'buffer'),
      r('decode_head.conv_seg.weight', 'weight'),
    ], { weightDecay: 0.05, layerDecay: { rate: 0.9, numLayers: 6, type: 'layer_wise' } });
    expect(groups.map((g) => [g.name, g.params.length, g.weightDecay])).toEqual([
      ['layer_0_decay', 1, 0.05], ['layer_0_no_decay', 1, 0], ['layer_1_no_decay', 1, 0], ['layer_7_decay', 1, 0.05],
    ]);
  });

  it('frozen stages: k freezes the stem and stages < k with their downsampling and output norms', () => {
    expect(frozenAt(-1)('backbone.downsample_layers.0.1.weight')).toBe(false);
    expect(frozenAt(0)('backbone.downsample_layers.0.1.weight')).toBe(true);
    expect(frozenAt(0)('backbone.stages.0.0.dwconv.weight')).toBe(false);
    expect(frozenAt(1)('backbone.stages.0.0.dwconv.weight')).toBe(true);
    expect(frozenAt(1)('backbone.norm0.weight')).toBe(true);
    expect(frozenAt(1)('backbone.downsample_layers.1.1.weight')).toBe(false);
    expect(frozenAt(2)('backbone.downsample_layers.1.1.weight')).toBe(true);
    expect(frozenAt(4)('backbone.stages.3.2.gamma')).toBe(true);
    expect(frozenAt(4)('neck.fpn_convs.0.conv.weight')).toBe(false);
  });
});

describe('lr schedules (mmcv semantics, worked by hand)', () => {
  it('poly with min_lr, cosine with min_lr_ratio, step with one period and floor, warm-up types', () => {
    // poly: (1e-2 − 1e-4)·(1 − 5/10)^2 + 1e-4 = 0.0099·0.25 + 0.0001 = 0.002575.
    expect(lrAt({ policy: 'poly', maxIters: 10, power: 2, minLr: 1e-4 }, 1e-2, 5)).toBeCloseTo(0.002575, 15);
    // cosine: target 0.1·base; at half way lr = target + ½(base − target) = 0.55·base.
    expect(lrAt({ policy: 'cosine', maxIters: 8, minLrRatio: 0.1 }, 2, 4)).toBeCloseTo(1.1, 12);
    // step every 3 iterations, gamma 0.5, floor 0.2: k = 7 → 1·0.5² = 0.25; k = 9 → 0.125 → 0.2.
    expect(lrAt({ policy: 'step', step: 3, gamma: 0.5, minLr: 0.2 }, 1, 7)).toBe(0.25);
    expect(lrAt({ policy: 'step', step: 3, gamma: 0.5, minLr: 0.2 }, 1, 9)).toBe(0.2);
    // linear warm-up ratio 0.1 over 4: k = 1 → 1 − (1 − 1/4)·0.9 = 0.325; constant → 0.1; exp → 0.1^(3/4).
    expect(lrAt({ policy: 'fixed', warmup: { type: 'linear', iters: 4, ratio: 0.1 } }, 1, 1)).toBeCloseTo(0.325, 15);
    expect(lrAt({ policy: 'fixed', warmup: { type: 'constant', iters: 4, ratio: 0.1 } }, 1, 3)).toBe(0.1);
    expect(lrAt({ policy: 'fixed', warmup: { type: 'exp', iters: 4, ratio: 0.1 } }, 1, 1)).toBeCloseTo(0.1 ** 0.75, 15);
    expect(lrAt({ policy: 'fixed', warmup: { type: 'exp', iters: 4, ratio: 0.1 } }, 1, 4)).toBe(1);
  });

  it('config schemas: defaults, strictness, build', async () => {
    await tf.setBackend('cpu');
    const o = optimizerSchema.parse({ layer_decay: { decay_rate: 0.9, num_layers: 6, decay_type: 'stage_wise' } });
    expect(o.lr).toBe(1e-4);
    expect(o.weight_decay).toBe(0.05);
    expect(() => optimizerSchema.parse({ lr: 1e-3, weight_decy: 0.1 })).toThrow();
    const s = scheduleSchema.parse({ policy: 'poly', max_iters: 160000, warmup: { iters: 1500, ratio: 1e-6 } });
    const vars = makeVars();
    const opt = buildOptimizer(refs(), vars, o, s, frozenAt(1));
    expect(opt.groups.every((g) => g.params.every((p) => !p.startsWith('backbone.stages.0')))).toBe(true);
    // Iteration 0 of poly with linear warm-up 1e-6: head group (scale 1) lr = 1e-4 · 1e-6.
    const head = opt.groups.findIndex((g) => g.name === 'layer_7_decay');
    expect(opt.groupLrs(0)[head]).toBeCloseTo(1e-10, 20);
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  });
});
