/**
 * Exported batchable graphs (classifier, feature extractor, segmentor) run at any batch size, and
 * each image of a batch gets exactly what it gets alone (the detector graphs take one image and
 * say so: tests/cli/onnx-metadata.test.ts).
 */
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../configs/index.js';
import { buildOnnx } from '../../src/core/ort/build.js';
import { mainNetwork } from '../../src/tasks/networks.js';
import { weightsFor } from '../../src/cli/common.js';

const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));

const cases: Array<[string, string | undefined, [number, number]]> = [
  ['test_convnext-t-narrow_cls10', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), [64, 64]],
  ['test_convnextv2-narrow_dense', undefined, [96, 128]],
  ['demo_upernet_convnext-synth', join(ASSETS, 'upernet_convnext-synth.safetensors'), [96, 128]],
];

describe('batch N equals batch 1, image by image', () => {
  it.each(cases)('%s', async (name, weights, [h, w]) => {
    const net = mainNetwork(resolveConfig(name));
    const session = await ort.InferenceSession.create(buildOnnx(net, await weightsFor(net.registry, weights, { quiet: true })));
    const n = 3 * h * w;
    const x = Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i * 0.013) * 2);
    const batch = await session.run({ input: new ort.Tensor('float32', x, [3, 3, h, w]) });
    for (let b = 0; b < 3; b++) {
      const one = await session.run({ input: new ort.Tensor('float32', x.subarray(b * n, (b + 1) * n), [1, 3, h, w]) });
      for (const out of Object.keys(net.outputs)) {
        const per = one[out].data.length;
        expect(batch[out].dims).toEqual([3, ...one[out].dims.slice(1)]);
        const all = batch[out].data as Float32Array;
        const mine = all.subarray(b * per, (b + 1) * per);
        let d = 0;
        for (let i = 0; i < per; i++) d = Math.max(d, Math.abs(mine[i] - (one[out].data as Float32Array)[i]));
        expect(d, `${out} of image ${b}`).toBeLessThan(1e-5);
      }
    }
    await session.release();
  });
});
