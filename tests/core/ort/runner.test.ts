/**
 * The ort runner built for a fixed input shape: same outputs as the dynamic-size graph, and a run
 * with another shape is refused with a message naming both shapes.
 */
import { describe, expect, it } from 'vitest';
import { ConvNeXt } from '../../../src/backbones/convnext.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import type { Network } from '../../../src/core/model.js';
import { OrtRunner } from '../../../src/core/ort/runner.js';
import { Scope } from '../../../src/core/params.js';
import { initWeights } from '../../../src/core/weights.js';
import { compare } from '../../helpers.js';

function net(): Network {
  const s = Scope.root();
  const b = new ConvNeXt(s, { version: 1, depths: [1, 1, 2, 1], dims: [16, 32, 48, 64], outIndices: [0, 1, 2, 3], layerScaleInit: 0.5 });
  return { registry: s.registry, inputChannels: 3, outputs: { p2: 4, p3: 4, p4: 4, p5: 4 }, forward: (ops, x) => b.forward(ops, x) };
}

const input: HostTensor = { shape: [1, 3, 75, 101], data: Float32Array.from({ length: 3 * 75 * 101 }, (_, i) => Math.sin(i * 0.13)) };

describe('OrtRunner with a fixed input shape', () => {
  it('computes what the dynamic graph computes and refuses other shapes', async () => {
    const n = net();
    const w = initWeights(n.registry, 4);
    const fixed = await OrtRunner.create(n, w, { inputShape: input.shape });
    const dynamic = await OrtRunner.create(n, w);
    try {
      const [a, b] = [await fixed.run(input), await dynamic.run(input)];
      for (const k of ['p2', 'p3', 'p4', 'p5']) expect(compare(a[k], b[k]).rel).toBeLessThan(1e-6);
      const other: HostTensor = { shape: [1, 3, 64, 64], data: new Float32Array(3 * 64 * 64) };
      await expect(fixed.run(other)).rejects.toThrow('built for input [1, 3, 75, 101], got [1, 3, 64, 64]');
      expect((await dynamic.run(other)).p5.shape).toEqual([1, 64, 2, 2]);
    } finally {
      await fixed.dispose();
      await dynamic.dispose();
    }
    await expect(OrtRunner.create(n, w, { inputShape: [1, 4, 8, 8] })).rejects.toThrow('is not [N, 3, H, W]');
  });
});
