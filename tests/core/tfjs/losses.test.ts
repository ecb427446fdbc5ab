/**
 * Losses against PyTorch with mmseg/mmdet wrapper semantics (fixture:
 * tools/fixtures/gen_train_losses.py): loss values and gradients with respect to the prediction,
 * on the cpu and wasm backends. Tolerance 1e-4 relative (per tensor).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { prepareTraining } from '../../../src/core/tfjs/grad/index.js';
import { fromHost, toHost } from '../../../src/core/tfjs/host.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import {
  binaryCrossEntropy, crossEntropy, l1Loss, maskCrossEntropy, type Reduction, smoothL1Loss, weightReduceLoss,
} from '../../../src/core/tfjs/losses/index.js';
import { compare, FIXTURES, PARITY_REL_TOL } from '../../helpers.js';

interface LossCase {
  name: string;
  fn: string;
  options: {
    ignore_index?: number;
    avg_non_ignore?: boolean;
    class_weight?: number[];
    pos_weight?: number[];
    reduction?: Reduction;
    avg_factor?: number;
    beta?: number;
  };
  loss_weight: number;
  has_weight: boolean;
}

let fx: { tensors: Map<string, HostTensor>; cases: LossCase[] };

beforeAll(async () => {
  await prepareTraining();
  const { tensors, metadata } = await readSafetensors(join(FIXTURES, 'train', 'losses.safetensors'));
  fx = { tensors, cases: JSON.parse(metadata.cases ?? '[]') as LossCase[] };
});

function get(name: string): HostTensor {
  const t = fx.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
}

/** Integer labels as int32 (stored as float32 in the fixture). */
function intTensor(t: HostTensor): tf.Tensor {
  return tf.tensor(Int32Array.from(t.data, (v) => Math.round(v)), t.shape, 'int32');
}

function lossOf(c: LossCase, pred: tf.Tensor): tf.Tensor {
  const o = c.options;
  const weight = c.has_weight ? fromHost(get(`${c.name}.weight`)) : undefined;
  const common = { weight, reduction: o.reduction, avgFactor: o.avg_factor, lossWeight: c.loss_weight };
  switch (c.fn) {
    case 'cross_entropy':
      return crossEntropy(pred, intTensor(get(`${c.name}.label`)), {
        ...common, ignoreIndex: o.ignore_index, avgNonIgnore: o.avg_non_ignore, classWeight: o.class_weight,
      });
    case 'binary_cross_entropy': {
      const hasLabel = fx.tensors.has(`${c.name}.label`);
      const target = hasLabel ? intTensor(get(`${c.name}.label`)) : fromHost(get(`${c.name}.target`));
      return binaryCrossEntropy(pred, target, { ...common, ignoreIndex: o.ignore_index, avgNonIgnore: o.avg_non_ignore, posWeight: o.pos_weight });
    }
    case 'mask_cross_entropy':
      return maskCrossEntropy(pred, fromHost(get(`${c.name}.target`)), intTensor(get(`${c.name}.labels`)), { lossWeight: c.loss_weight });
    case 'l1_loss':
      return l1Loss(pred, fromHost(get(`${c.name}.target`)), common);
    case 'smooth_l1_loss':
      return smoothL1Loss(pred, fromHost(get(`${c.name}.target`)), { ...common, beta: o.beta });
    default:
      throw new Error(`unknown loss ${c.fn}`);
  }
}

describe.each(['cpu', 'wasm'] as const)('losses on %s', (backend) => {
  it('fixture has the expected cases', () => {
    expect(fx.cases.map((c) => c.name)).toContain('seg_ce_avg_non_ignore');
    expect(fx.cases.length).toBe(16);
  });

  it.each([...Array(16).keys()])('case %i: value and gradient match PyTorch', async (i) => {
    await tf.setBackend(backend);
    const c = fx.cases[i];
    const before = tf.memory().numTensors;
    const pred = fromHost(get(`${c.name}.pred`));
    const gradOut = get(`${c.name}.grad_out`);
    const expLoss = get(`${c.name}.loss`);
    const go = tf.tensor(gradOut.data);
    let value: tf.Tensor | null = null;
    const grad = tf.grad((p: tf.Tensor) => {
      const l = lossOf(c, p);
      value = tf.keep(tf.reshape(l, [-1]));
      return tf.sum(tf.mul(tf.reshape(l, [-1]), go));
    })(pred);
    const lossHost: HostTensor = { shape: [...expLoss.shape], data: (await value!.data()) as Float32Array };
    const lc = compare(lossHost, expLoss);
    const gc = compare(await toHost(grad), get(`${c.name}.grad`));
    console.log(`${backend} ${c.name}: loss rel ${lc.rel.toExponential(2)}, grad rel ${gc.rel.toExponential(2)}`);
    expect(lc.rel).toBeLessThanOrEqual(PARITY_REL_TOL);
    expect(gc.rel).toBeLessThanOrEqual(PARITY_REL_TOL);
    tf.dispose([pred, go, grad, value!]);
    // Everything the loss built (labels, weights inside lossOf) was created in the gradient's scope.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 3);
  });
});

describe('reduction conventions (worked by hand)', () => {
  it('mean, sum, avg_factor, weight', async () => {
    await tf.setBackend('cpu');
    const l = tf.tensor1d([1, 2, 3, 6]);
    const w = tf.tensor1d([1, 0, 1, 0.5]);
    // mean of [1, 2, 3, 6] = 3; sum = 12; weighted = [1, 0, 3, 3] → mean 1.75, sum/avg 7/(2 + ε).
    expect((await weightReduceLoss(l).data())[0]).toBeCloseTo(3, 6);
    expect((await weightReduceLoss(l, { reduction: 'sum' }).data())[0]).toBeCloseTo(12, 6);
    expect((await weightReduceLoss(l, { weight: w }).data())[0]).toBeCloseTo(1.75, 6);
    expect((await weightReduceLoss(l, { weight: w, avgFactor: 2 }).data())[0]).toBeCloseTo(3.5, 5);
    expect(() => weightReduceLoss(l, { reduction: 'sum', avgFactor: 2 })).toThrow(/avgFactor/);
    expect(Array.from(await weightReduceLoss(l, { weight: w, reduction: 'none' }).data())).toEqual([1, 0, 3, 3]);
  });

  it('all-ignored segmentation with avg_non_ignore gives 0, not NaN; empty regressions give 0', async () => {
    await tf.setBackend('cpu');
    const pred = tf.randomNormal([1, 2, 2, 3]);
    const label = tf.fill([1, 2, 2], 255, 'int32');
    expect((await crossEntropy(pred, label, { ignoreIndex: 255, avgNonIgnore: true }).data())[0]).toBe(0);
    const empty = tf.zeros([0, 4]);
    expect((await l1Loss(empty, empty).data())[0]).toBe(0);
    expect((await smoothL1Loss(empty, empty).data())[0]).toBe(0);
    expect((await maskCrossEntropy(tf.zeros([0, 28, 28, 3]), tf.zeros([0, 28, 28]), tf.zeros([0], 'int32')).data())[0]).toBe(0);
  });

  it('rejects mismatched shapes', async () => {
    await tf.setBackend('cpu');
    expect(() => crossEntropy(tf.zeros([2, 3]), tf.zeros([3], 'int32'))).toThrow(/do not match/);
    expect(() => l1Loss(tf.zeros([2, 4]), tf.zeros([2, 3]))).toThrow(/differ in shape/);
    expect(() => smoothL1Loss(tf.zeros([1]), tf.zeros([1]), { beta: 0 })).toThrow(/beta/);
  });
});
