/**
 * The backbone registry: a backbone defined outside src/ (./toy-backbone.ts) is registered with
 * one line; classifier, segmentor and feature configs name it by `type` and parse (option typos
 * and cross-component mismatches fail at parse time with their path); the models build on it and
 * run on both engines with the same outputs (max |Δ| ≤ 1e-4), at the channels and strides it
 * declares; its frozen parameters are what the trainer's optimizer leaves out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../configs/index.js';
import { BACKBONES } from '../../src/backbones/index.js';
import { backboneFrozen } from '../../src/core/components.js';
import { createRunner } from '../../src/core/engine.js';
import type { HostTensor } from '../../src/core/host-tensor.js';
import type { Network } from '../../src/core/model.js';
import { initWeights } from '../../src/core/weights.js';
import { Classifier } from '../../src/tasks/classification/classifier.js';
import { featureModel } from '../../src/tasks/features.js';
import { Segmentor } from '../../src/tasks/segmentation/segmentor.js';
import { toyBackboneEntry } from './toy-backbone.js';

const DENSE = 'backbone={"type":"toy_patchify","widths":[8,16,24,32],"out_indices":[0,1,2,3]}';
const TRUNK = 'backbone={"type":"toy_patchify","widths":[8,16,24,32]}';
const SEG = 'demo_upernet_convnext-synth';
const CLS = 'test_convnextv2-narrow_cls7';

beforeAll(() => {
  if (!BACKBONES.types().includes('toy_patchify')) BACKBONES.register(toyBackboneEntry);
});

const image: HostTensor = { shape: [1, 3, 64, 96], data: Float32Array.from({ length: 3 * 64 * 96 }, (_, i) => Math.sin(i * 0.013) + 0.3 * Math.cos(i * 0.0007)) };

/** Runs `net` on both engines (tfjs on wasm) with the same random weights; returns ort's outputs and the largest difference. */
async function bothEngines(net: Network): Promise<{ out: Record<string, HostTensor>; diff: number }> {
  const weights = initWeights(net.registry, 3);
  const outs: Array<Record<string, HostTensor>> = [];
  for (const engine of ['ort', 'tfjs'] as const) {
    const r = await createRunner(engine, net, weights, { backend: 'wasm' });
    outs.push(await r.run(image));
    await r.dispose();
  }
  let diff = 0;
  for (const [k, t] of Object.entries(outs[0])) {
    expect(outs[1][k].shape).toEqual(t.shape);
    t.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - outs[1][k].data[i]))));
  }
  return { out: outs[0], diff };
}

describe('a backbone registered from outside the library', () => {
  it('parses by type, with option errors and cross-component problems at their path', () => {
    const seg = resolveConfig(SEG, [DENSE]);
    expect(seg.backbone).toEqual({ type: 'toy_patchify', widths: [8, 16, 24, 32], in_channels: 3, out_indices: [0, 1, 2, 3], frozen_stages: -1 });
    expect(() => resolveConfig(SEG, ['backbone={"type":"toy_patchify","widts":[8,16,24,32]}'])).toThrow(/backbone: unknown key\(s\) 'widts'/);
    expect(() => resolveConfig(SEG, ['backbone={"type":"toy_patchfy","widths":[8,16,24,32]}'])).toThrow(/backbone\.type: unknown type "toy_patchfy": expected one of 'convnext', 'toy_patchify'/);
    // The segmentor's rules read the toy's declared levels without building it.
    expect(() => resolveConfig(SEG, [TRUNK])).toThrow(/backbone\.out_indices: a segmentor needs out_indices/);
    expect(() => resolveConfig(SEG, ['backbone={"type":"toy_patchify","widths":[8,16,24,32],"out_indices":[2,3]}'])).toThrow(/auxiliary_head\.in_index: level 2 does not exist: the backbone has 2 outputs \(p4, p5\)/);
  });

  it('a segmentor on it runs on both engines with the same logits', async () => {
    const cfg = resolveConfig(SEG, [DENSE]);
    if (cfg.type !== 'segmentor') throw new Error('expected a segmentor');
    const seg = new Segmentor(cfg);
    expect(seg.backbone.featureSpecs.map((s) => [s.name, s.channels, s.stride])).toEqual([['p2', 8, 4], ['p3', 16, 8], ['p4', 24, 16], ['p5', 32, 32]]);
    expect(seg.scope.registry.all().some((p) => p.name === 'backbone.stages.3.weight')).toBe(true);
    const { out, diff } = await bothEngines(seg.network());
    expect(out.logits.shape).toEqual([1, 5, 64, 96]);
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('a classifier reads its last stage; feature extraction its declared levels', async () => {
    const cfg = resolveConfig(CLS, [TRUNK]);
    if (cfg.type !== 'classifier') throw new Error('expected a classifier');
    const { out, diff } = await bothEngines(new Classifier(cfg).network());
    expect(out.logits.shape).toEqual([1, 7]);
    expect(diff).toBeLessThanOrEqual(1e-4);
    const fm = featureModel(cfg);
    const feats = await bothEngines(fm.network);
    expect(feats.diff).toBeLessThanOrEqual(1e-4);
    for (const s of fm.specs) expect(feats.out[s.name].shape).toEqual([1, s.channels, 64 / s.stride, 96 / s.stride]);
  });

  it('its frozen parameters are the ones its config freezes, under the model prefix', () => {
    const cfg = resolveConfig(SEG, ['backbone={"type":"toy_patchify","widths":[8,16,24,32],"out_indices":[0,1,2,3],"frozen_stages":2}']);
    if (cfg.type !== 'segmentor') throw new Error('expected a segmentor');
    const seg = new Segmentor(cfg);
    const frozen = seg.scope.registry.all().map((p) => p.name).filter(backboneFrozen(seg.backbone, 'backbone'));
    expect(frozen).toEqual(['backbone.stem.weight', 'backbone.stem.bias', 'backbone.stages.1.weight', 'backbone.stages.1.bias', 'backbone.outs.0.weight', 'backbone.outs.0.bias', 'backbone.outs.1.weight', 'backbone.outs.1.bias']);
  });
});
