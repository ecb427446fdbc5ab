/**
 * Training-mode convolutions (src/core/tfjs/grad): forward values and gradients of conv2d (dense,
 * grouped, depthwise; strides 1/2/4, padding, dilation) and convTranspose2d through TfjsOps, and
 * of the tiny ConvNeXt V2 `test_convnextv2-narrow_cls7` under a cross-entropy loss, on the wasm
 * and cpu backends, against PyTorch autograd (fixtures: tools/fixtures/gen_train_grads.py) and
 * against each other. Tolerance: max abs error ≤ 1e-4 × max abs expected, per tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import type { ParamRef } from '../../../src/core/params.js';
import { prepareTraining } from '../../../src/core/tfjs/grad/index.js';
import { TfjsOps } from '../../../src/core/tfjs/ops.js';
import { TfjsParams } from '../../../src/core/tfjs/params.js';
import { fromHost, toHost } from '../../../src/core/tfjs/host.js';
import { bindWeights } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { Classifier } from '../../../src/tasks/classification/classifier.js';
import { crossEntropy } from '../../../src/core/tfjs/losses/index.js';
import { compare, FIXTURES, PARITY_REL_TOL } from '../../helpers.js';

const BACKENDS = ['cpu', 'wasm'] as const;

interface ConvCase {
  name: string;
  kind: 'conv' | 'convT';
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
}

let convFx: { tensors: Map<string, HostTensor>; cases: ConvCase[] };

beforeAll(async () => {
  await prepareTraining();
  const { tensors, metadata } = await readSafetensors(join(FIXTURES, 'train', 'conv_grads.safetensors'));
  convFx = { tensors, cases: JSON.parse(metadata.cases ?? '[]') as ConvCase[] };
});

function ref(name: string, shape: readonly number[], role: ParamRef['role'] = 'weight'): ParamRef {
  return { name, shape: [...shape], init: { kind: 'zeros' }, role };
}

function get(name: string): HostTensor {
  const t = convFx.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
}

/** A tensor as stored (parameters and their gradients are in PyTorch layout already). */
async function rawHost(t: tf.Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: new Float32Array((await t.data()) as Float32Array) };
}

/** Forward + backward of one conv case on the active backend; everything back on the host. */
async function runConv(c: ConvCase): Promise<Record<string, HostTensor>> {
  const w = get(`${c.name}.weight`);
  const b = get(`${c.name}.bias`);
  const params = new TfjsParams(new Map([['weight', w], ['bias', b]]), true);
  const ops = new TfjsOps(params, true);
  const wRef = ref('weight', w.shape);
  const bRef = ref('bias', b.shape, 'bias');
  const x0 = fromHost(get(`${c.name}.x`));
  const x = tf.variable(x0);
  x0.dispose();
  const g = fromHost(get(`${c.name}.g`));
  const forward = () =>
    c.kind === 'conv'
      ? ops.conv2d(x, wRef, bRef, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups })
      : ops.convTranspose2d(x, wRef, bRef, { stride: c.stride, padding: c.padding });
  const y = tf.tidy(forward);
  const vars = [x, params.get(wRef), params.get(bRef)];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), g)) as tf.Scalar, vars);
  const out = {
    y: await toHost(y),
    dx: await toHost(grads[x.name]),
    dweight: await rawHost(grads[params.get(wRef).name]),
    dbias: await rawHost(grads[params.get(bRef).name]),
  };
  tf.dispose([y, value, g, x, ...Object.values(grads)]);
  params.dispose();
  return out;
}

describe('conv2d / convTranspose2d gradients in training mode', () => {
  it('covers every fixture case', () => {
    expect(convFx.cases.length).toBeGreaterThanOrEqual(16);
  });

  it.each([...Array(16).keys()])('case %i against PyTorch, cpu and wasm agree', async (i) => {
    const c = convFx.cases[i];
    const results: Record<string, Record<string, HostTensor>> = {};
    let worst = 0;
    for (const backend of BACKENDS) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      results[backend] = await runConv(c);
      expect(tf.memory().numTensors, `${backend} ${c.name} leaks`).toBe(before);
      for (const key of ['y', 'dx', 'dweight', 'dbias']) {
        const cmp = compare(results[backend][key], get(`${c.name}.${key}`));
        expect(cmp.rel, `${backend} ${c.name} ${key}: rel ${cmp.rel}`).toBeLessThanOrEqual(PARITY_REL_TOL);
        worst = Math.max(worst, cmp.rel);
      }
    }
    console.log(`${c.name}: worst rel err vs PyTorch ${worst.toExponential(2)} (cpu and wasm)`);
    for (const key of ['y', 'dx', 'dweight', 'dbias']) {
      expect(compare(results.wasm[key], results.cpu[key]).rel, `${c.name} ${key}: wasm vs cpu`).toBeLessThanOrEqual(PARITY_REL_TOL);
    }
  });
});

describe('tiny ConvNeXt V2: loss and parameter gradients', () => {
  const perBackend: Record<string, Map<string, HostTensor>> = {};

  it.each(BACKENDS)('%s: matches PyTorch, no tensor leaks across steps', async (backend) => {
    await tf.setBackend(backend);
    const fx = await readSafetensors(join(FIXTURES, 'train', 'convnext_grads.safetensors'));
    const loaded = await loadWeights(join(FIXTURES, 'backbone', 'ref_v2.weights.safetensors'));
    const cfg = resolveConfig('test_convnextv2-narrow_cls7');
    if (cfg.type !== 'classifier') throw new Error('expected a classifier config');
    const net = new Classifier(cfg).network();
    const { weights } = bindWeights(net.registry, loaded.tensors);
    const shape = JSON.parse(fx.metadata.input_shape ?? '[]') as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    // Input formula of the fixture: sin(0.37 · i) over the NCHW flat index (computed in float64).
    const input: HostTensor = { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i)) };
    const labels = JSON.parse(fx.metadata.labels ?? '[]') as number[];

    const before = tf.memory().numTensors;
    const params = new TfjsParams(weights, true);
    const ops = new TfjsOps(params, true);
    const x = fromHost(input);
    const y = tf.tensor1d(labels, 'int32');
    const afterSetup = tf.memory().numTensors;
    const step = async () => {
      const { value, grads } = tf.variableGrads(() => crossEntropy(net.forward(ops, x).logits, y) as tf.Scalar);
      const loss = (await value.data())[0];
      const host = new Map<string, HostTensor>();
      for (const [name, v] of params.variables()) host.set(name, await rawHost(grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      return { loss, host };
    };
    const { loss, host } = await step();
    expect(tf.memory().numTensors).toBe(afterSetup);
    await step();
    await step();
    expect(tf.memory().numTensors, 'tensor count stable across steps').toBe(afterSetup);

    const expLoss = fx.tensors.get('loss')!.data[0];
    expect(Math.abs(loss - expLoss) / Math.abs(expLoss)).toBeLessThanOrEqual(PARITY_REL_TOL);
    let worst = 0;
    let checked = 0;
    for (const [name, grad] of host) {
      const exp = fx.tensors.get(`grad.${name}`);
      expect(exp, `fixture has grad.${name}`).toBeDefined();
      const c = compare(grad, exp!);
      worst = Math.max(worst, c.rel);
      expect(c.rel, `${backend} grad ${name}: rel ${c.rel}`).toBeLessThanOrEqual(PARITY_REL_TOL);
      checked++;
    }
    console.log(`${backend}: loss ${loss} (PyTorch ${expLoss}); ${checked} parameter gradients, worst rel err ${worst.toExponential(2)}`);
    expect(checked).toBe(140);
    perBackend[backend] = host;

    tf.dispose([x, y]);
    params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('wasm and cpu gradients agree', () => {
    expect(Object.keys(perBackend).sort()).toEqual(['cpu', 'wasm']);
    let worst = 0;
    for (const [name, g] of perBackend.cpu) worst = Math.max(worst, compare(perBackend.wasm.get(name)!, g).rel);
    console.log(`wasm vs cpu: worst rel difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(PARITY_REL_TOL);
  });
});
