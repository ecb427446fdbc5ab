/** The tfjs engine keeps no tensors alive across segmentation calls (whole, slide, TTA). */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { bindWeights } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { Segmentor } from '../../../src/tasks/segmentation/segmentor.js';
import { FIXTURES } from '../../helpers.js';
import { createSegmentorPredictor } from '../../../src/tasks/segmentation/segmentor-engine.js';

describe('segmentor on tfjs', () => {
  it('leaks no tensors', async () => {
    const cfg = resolveConfig('test_upernet_convnext-narrow_cls5_slide');
    if (cfg.type !== 'segmentor') throw new Error('not a segmentor');
    const model = new Segmentor(cfg);
    const { weights } = bindWeights(model.scope.registry, (await loadWeights(join(FIXTURES, 'seg', 'seg.weights.safetensors'))).tensors);
    const pred = await createSegmentorPredictor(model, weights, 'tfjs', { backend: 'wasm' });
    const img = { width: 150, height: 90, data: Uint8Array.from({ length: 150 * 90 * 3 }, (_, i) => (i * 7) & 255) };
    await pred.predict(img); // warm-up: parameter views are cached on first use
    const before = tf.memory().numTensors;
    await pred.predict(img, { mode: 'whole' });
    await pred.predict(img, { mode: 'slide', tta: true });
    expect(tf.memory().numTensors).toBe(before);
    await pred.dispose();
  });
});
