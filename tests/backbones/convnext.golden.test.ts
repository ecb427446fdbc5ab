/**
 * Golden tests of ConvNeXt against references (fixtures from tools/fixtures/gen_backbone.py):
 * torchvision's ConvNeXt for V1 stage outputs and logits; the official definition for V2 (GRN)
 * and the dense norm{i} outputs. Both engines, and the ort graph whose linear layers are
 * channels-last MatMuls (the float graph `convnext quantize` starts from). Tolerance: max abs error ≤ 1e-4 × max abs expected.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createRunner, ENGINES, type Runner } from '../../src/core/engine.js';
import { bindWeights } from '../../src/core/weights.js';
import { OrtRunner } from '../../src/core/ort/runner.js';
import { resolveConfig } from '../../configs/index.js';
import { Classifier } from '../../src/tasks/classification/classifier.js';
import { featureModel } from '../../src/tasks/features.js';
import { loadWeights } from '../../src/io/load-weights.js';
import { compare, FIXTURES, loadIo, PARITY_REL_TOL } from '../helpers.js';

const CASES = [
  { fixture: 'tv_v1', config: 'test_convnext-t-narrow_cls10', what: 'torchvision ConvNeXt V1' },
  { fixture: 'ref_v2', config: 'test_convnextv2-narrow_cls7', what: 'official ConvNeXt V2' },
  { fixture: 'ref_v2', config: 'test_convnextv2-narrow_dense', what: 'official V2 dense norm0..3' },
  { fixture: 'ref_v1_dense', config: 'test_convnext-narrow_dense', what: 'official V1 dense norm1..3, odd size' },
] as const;

const runners: Runner[] = [];
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

/** The engines, plus the ort graph with linear layers as channels-last MatMul (what `quantize` builds from). */
const VARIANTS = [...ENGINES.map((engine) => ({ engine, pointwise: 'conv' as const })), { engine: 'ort' as const, pointwise: 'matmul' as const }];

describe.each(VARIANTS)('ConvNeXt golden outputs on $engine (pointwise $pointwise)', ({ engine, pointwise }) => {
  it.each(CASES)('$what ($config)', async ({ fixture, config }) => {
    const dir = join(FIXTURES, 'backbone');
    const io = await loadIo(join(dir, `${fixture}.io.safetensors`));
    const loaded = await loadWeights(join(dir, `${fixture}.weights.safetensors`));
    const cfg = resolveConfig(config);
    // Feature outputs are raw stage outputs for classifiers and norm{i} outputs for dense backbones.
    const kind = cfg.type === 'classifier' ? 'raw' : 'dense';
    const nets = [featureModel(cfg).network];
    if (cfg.type === 'classifier') nets.push(new Classifier(cfg).network());
    const seen: string[] = [];
    for (const net of nets) {
      const { weights } = bindWeights(net.registry, loaded.tensors);
      const runner = pointwise === 'matmul' ? await OrtRunner.create(net, weights, { pointwise }) : await createRunner(engine, net, weights, { backend: 'wasm' });
      runners.push(runner);
      const out = await runner.run(io.input);
      for (const [name, actual] of Object.entries(out)) {
        const exp = io.expected[name === 'logits' ? name : `${kind}.${name}`];
        expect(exp, `fixture has expected ${name}`).toBeDefined();
        const c = compare(actual, exp);
        console.log(`${engine}/${pointwise} ${config} ${name}: max abs err ${c.maxErr.toExponential(2)} (rel ${c.rel.toExponential(2)}, tol ${PARITY_REL_TOL})`);
        expect(c.rel).toBeLessThanOrEqual(PARITY_REL_TOL);
        seen.push(name);
      }
    }
    // Every expected output of the fixture that this config produces was checked.
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});
