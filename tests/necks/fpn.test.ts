/**
 * FPN against torchvision's FeaturePyramidNetwork + LastLevelMaxPool (the same computation as
 * mmdetection's FPN with num_outs 5 and no extra convs), on odd sizes where the top-down nearest
 * upsampling is not an exact ×2 (3×4 → 5×7 → 10×13 → 19×25); weights under mmdetection's names.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../src/core/engine.js';
import { Scope } from '../../src/core/params.js';
import { bindWeights } from '../../src/core/weights.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Fpn } from '../../src/necks/fpn.js';
import { FIXTURES } from '../helpers.js';
import { maxDiff, runDet } from '../heads/det-harness.js';

describe('FPN', () => {
  it('derives its specs from the input specs', () => {
    const fpn = new Fpn(Scope.root(), [{ name: 'p3', channels: 16, stride: 8 }, { name: 'p4', channels: 24, stride: 16 }], { outChannels: 8, numOuts: 4 });
    expect(fpn.outSpecs).toEqual([
      { name: 'p3', channels: 8, stride: 8 }, { name: 'p4', channels: 8, stride: 16 },
      { name: 'p5', channels: 8, stride: 32 }, { name: 'p6', channels: 8, stride: 64 },
    ]);
    expect(() => new Fpn(Scope.root(), [{ name: 'p3', channels: 16, stride: 8 }], { outChannels: 8, numOuts: 0 })).toThrow(/num_outs/);
  });

  it.each(ENGINES)('matches torchvision on %s', async (engine) => {
    const { tensors: ref } = await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'));
    const { tensors: w } = await readSafetensors(join(FIXTURES, 'det', 'fpn.weights.safetensors'));
    const scope = Scope.root();
    const specs = [8, 16, 24, 32].map((c, i) => ({ name: `p${i + 2}`, channels: c, stride: 4 << i }));
    const fpn = new Fpn(scope.child('neck'), specs, { outChannels: 16, numOuts: 5 });
    const { weights, report } = bindWeights(scope.registry, w);
    expect(report.unexpected).toEqual([]);
    const inputs = Object.fromEntries([2, 3, 4, 5].map((l) => [`p${l}`, ref.get(`fpn.in.p${l}`)!]));
    const out = await runDet(engine, inputs, (ops, x) => Object.fromEntries(fpn.forward(ops, x).map((o, i) => [`o${i + 2}`, o])), weights);
    for (let l = 2; l <= 6; l++) {
      const exp = ref.get(`fpn.out.p${l}`)!;
      expect(out[`o${l}`].shape).toEqual(exp.shape);
      expect(maxDiff(out[`o${l}`].data, exp.data)).toBeLessThanOrEqual(1e-4);
    }
  });
});
