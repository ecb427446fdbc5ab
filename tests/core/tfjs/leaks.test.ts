/** The TensorFlow.js engine must not leak tensors: counts are stable across runs and return to baseline. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/core/tfjs/backend.js';
import { TfjsRunner } from '../../../src/core/tfjs/runner.js';
import { initWeights } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import { Classifier } from '../../../src/tasks/classification/classifier.js';
import { featureModel } from '../../../src/tasks/features.js';
import { classifierConfig } from '../../helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('tfjs engine tensor accounting', () => {
  it.each([
    ['classifier', () => new Classifier(classifierConfig('test_convnextv2-narrow_cls7')).network()],
    ['dense features', () => featureModel(resolveConfig('test_convnext-narrow_dense')).network],
  ])('%s: no tensors leak', async (_name, make) => {
    const net = make();
    const before = tf.memory().numTensors;
    const runner = new TfjsRunner(net, initWeights(net.registry, 3));
    const input = { shape: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64).fill(0.25) };
    await runner.run(input);
    const afterFirst = tf.memory().numTensors; // variables + cached weight views
    await runner.run(input);
    await runner.run(input);
    expect(tf.memory().numTensors).toBe(afterFirst);
    runner.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
