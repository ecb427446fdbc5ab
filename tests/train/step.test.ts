/**
 * Training steps end to end on the wasm backend: the tiny ConvNeXt V2 classifier with
 * cross-entropy, AdamW with layer decay and clipping, frozen stem. The loss goes down on a fixed
 * batch, frozen parameters stay put, and the live tensor count is the same after every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTraining } from '../../src/core/tfjs/grad/index.js';
import { TfjsOps } from '../../src/core/tfjs/ops.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import { initWeights } from '../../src/core/weights.js';
import { resolveConfig } from '../../configs/index.js';
import { backboneFrozen } from '../../src/core/components.js';
import { Classifier } from '../../src/tasks/classification/classifier.js';
import { crossEntropy } from '../../src/core/tfjs/losses/index.js';
import { buildOptimizer, optimizerSchema, scheduleSchema } from '../../src/train/optim/index.js';
import { trainStep } from '../../src/train/step.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await prepareTraining();
});

describe('trainStep on wasm', () => {
  it('tiny ConvNeXt: loss decreases, frozen stem unchanged, tensor count stable across steps', async () => {
    const cfg = resolveConfig('test_convnextv2-narrow_cls7', ['backbone.frozen_stages=0']);
    if (cfg.type !== 'classifier') throw new Error('expected a classifier config');
    const model = new Classifier(cfg);
    const net = model.network();
    const before = tf.memory().numTensors;
    const params = new TfjsParams(initWeights(net.registry, 5), true);
    const ops = new TfjsOps(params, true);
    const opt = buildOptimizer(
      net.registry.all(), params.variables(),
      optimizerSchema.parse({ lr: 2e-3, layer_decay: { decay_rate: 0.9, num_layers: 6 }, grad_clip: { max_norm: 5 } }),
      scheduleSchema.parse({ policy: 'poly', max_iters: 12, warmup: { iters: 2, ratio: 0.1 } }),
      backboneFrozen(model.backbone, ''),
    );
    const stem = params.variables().get('downsample_layers.0.0.weight')!;
    const stemBefore = Float32Array.from(await stem.data());
    expect(opt.trainableVariables()).not.toContain(stem);
    const n = 2 * 3 * 64 * 64;
    const x = fromHost({ shape: [2, 3, 64, 64], data: Float32Array.from({ length: n }, (_, i) => Math.sin(0.1 * i) + Math.cos(0.013 * i)) });
    const y = tf.tensor1d([1, 4], 'int32');
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < 8; s++) {
      const r = await trainStep(opt, params.variables(), () => crossEntropy(net.forward(ops, x).logits, y) as tf.Scalar, { clipNorm: 5 });
      expect(r.gradNorm).toBeGreaterThan(0);
      losses.push(r.loss);
      counts.push(tf.memory().numTensors);
    }
    console.log(`losses ${losses.map((l) => l.toFixed(4)).join(' ')}; tensors after each step ${counts.join(' ')}`);
    expect(losses[7]).toBeLessThan(losses[0] * 0.8);
    // Moments appear at the first step; after that nothing accumulates.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[0]).toBe(counts[1]);
    expect(Array.from(await stem.data())).toEqual(Array.from(stemBefore));
    opt.dispose();
    params.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an inference forward on trainable parameters sees their current values after a step', async () => {
    const cfg = resolveConfig('test_convnextv2-narrow_cls7');
    if (cfg.type !== 'classifier') throw new Error('expected a classifier config');
    const net = new Classifier(cfg).network();
    const params = new TfjsParams(initWeights(net.registry, 6), true);
    const opt = buildOptimizer(net.registry.all(), params.variables(), optimizerSchema.parse({ lr: 1e-2 }), scheduleSchema.parse({ policy: 'poly', max_iters: 2 }));
    const x = fromHost({ shape: [1, 3, 32, 32], data: Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(0.07 * i)) });
    const y = tf.tensor1d([3], 'int32');
    const infer = (p: TfjsParams): Float32Array => tf.tidy(() => net.forward(new TfjsOps(p, false), x).logits.dataSync() as Float32Array);
    const beforeStep = infer(params);
    await trainStep(opt, params.variables(), () => crossEntropy(net.forward(new TfjsOps(params, true), x).logits, y) as tf.Scalar);
    const fixed = new TfjsParams(await params.toHost());
    const expected = infer(fixed);
    // Tolerance: the same float32 computation on the same backend, only the holder differs.
    expect(Array.from(infer(params))).toEqual(Array.from(expected));
    expect(Array.from(expected)).not.toEqual(Array.from(beforeStep));
    tf.dispose([x, y]);
    opt.dispose();
    params.dispose();
    fixed.dispose();
  });
});
