/**
 * Walks every named config: it must validate, build, and its backbone's outputs must have the
 * channels and strides its FeatureSpecs declare (shape engine, so big variants cost nothing).
 * The shape engine itself is checked against real ONNX Runtime runs of the small variants, and
 * every small (test_*, demo_*) config runs on both engines with its declared spec. Detector necks
 * are walked in tests/necks/registry.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { configNames, resolveConfig } from '../../configs/index.js';
import { featureModel } from '../../src/tasks/features.js';
import { mainNetwork } from '../../src/tasks/networks.js';
import { ShapeOps, type ShapeSym } from '../../src/core/shape/ops.js';
import { createRunner } from '../../src/core/engine.js';
import { initWeights } from '../../src/core/weights.js';
import { validateFeatureSpecs } from '../../src/core/feature-spec.js';

const SIZE = 224;

describe('every named config', () => {
  const names = configNames();
  it('there are configs for every variant', () => {
    for (const v of ['a', 'f', 'p', 'n', 't', 's', 'b', 'l', 'xl']) expect(names).toContain(`convnext-${v}_in1k`);
    for (const v of ['a', 'f', 'p', 'n', 't', 's', 'b', 'l', 'h']) expect(names).toContain(`convnextv2-${v}_in1k`);
  });

  it.each(names)('%s: outputs match the FeatureSpecs', (name) => {
    const cfg = resolveConfig(name);
    const fm = featureModel(cfg);
    validateFeatureSpecs(name, fm.specs);
    const out = fm.network.forward(new ShapeOps(), { shape: [1, 3, SIZE, SIZE] } satisfies ShapeSym);
    expect(Object.keys(out)).toEqual(fm.specs.map((s) => s.name));
    for (const s of fm.specs) {
      expect(out[s.name].shape).toEqual([1, s.channels, SIZE / s.stride, SIZE / s.stride]);
    }
  });
});

describe('every segmentor config', () => {
  const names = configNames().filter((n) => resolveConfig(n).type === 'segmentor');
  it('exists for T, S, B, L, XL', () => {
    for (const v of ['t', 's', 'b', 'l', 'xl']) expect(names.some((n) => n.startsWith(`upernet_convnext-${v}_`))).toBe(true);
  });

  it.each(names)('%s: head outputs are num_classes maps at the input size', (name) => {
    const cfg = resolveConfig(name);
    if (cfg.type !== 'segmentor') throw new Error('not a segmentor');
    const out = mainNetwork(cfg).forward(new ShapeOps(), { shape: [1, 3, SIZE, SIZE] } satisfies ShapeSym);
    expect(out.logits.shape).toEqual([1, cfg.num_classes, SIZE, SIZE]);
  });
});

describe('shape engine agrees with onnxruntime', () => {
  it.each(['convnext-a_in1k', 'convnextv2-a_in1k', 'test_convnext-narrow_dense'])('%s at 96×160', async (name) => {
    const fm = featureModel(resolveConfig(name));
    const runner = await createRunner('ort', fm.network, initWeights(fm.network.registry, 1));
    const input = { shape: [1, 3, 96, 160], data: new Float32Array(3 * 96 * 160).fill(0.5) };
    const real = await runner.run(input);
    await runner.dispose();
    const sym = fm.network.forward(new ShapeOps(), { shape: input.shape });
    for (const s of fm.specs) expect(real[s.name].shape).toEqual(sym[s.name].shape);
  });
});

describe('the small named configs on both engines', () => {
  // test_* and demo_* configs are small enough to run for real; the others are covered by the
  // shape engine above (itself checked against onnxruntime).
  const small = configNames().filter((n) => n.startsWith('test_') || n.startsWith('demo_'));
  it.each(small)('%s: backbone outputs have the declared channels and strides on ort and tfjs', async (name) => {
    const fm = featureModel(resolveConfig(name));
    const weights = initWeights(fm.network.registry, 1);
    const input = { shape: [1, 3, 64, 96], data: Float32Array.from({ length: 3 * 64 * 96 }, (_, i) => Math.sin(i * 0.1)) };
    for (const engine of ['ort', 'tfjs'] as const) {
      const runner = await createRunner(engine, fm.network, weights, { backend: 'wasm' });
      const out = await runner.run(input);
      await runner.dispose();
      for (const s of fm.specs) expect(out[s.name].shape, `${engine} ${s.name}`).toEqual([1, s.channels, 64 / s.stride, 96 / s.stride]);
    }
  });
});
