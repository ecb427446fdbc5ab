/**
 * Golden tests of the UPerNet segmentor against tools/reference/mmseg_uper.py (mmsegmentation 0.x
 * semantics; fixtures from tools/fixtures/gen_seg.py): random weights with non-trivial BatchNorm
 * statistics, odd input size 333×517, whole and slide mode, and the image pipeline (keep-ratio
 * rescale, slide windows smaller than the crop, logits resized to the original size, flip +
 * multi-scale TTA). Both engines. Logits: max abs error ≤ 1e-4 × max abs expected; labels agree on
 * ≥ 99.99 % of pixels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createRunner, ENGINES } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { bindWeights, type WeightMap } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import type { SegmentorConfig } from '../../../src/config/segmentor.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import type { RgbImage } from '../../../src/image/rgb.js';
import { Segmentor, segmentorNetwork } from '../../../src/tasks/segmentation/segmentor.js';
import { argmax, type Labels, resizeScores, type ScoreMap, topLeft } from '../../../src/tasks/segmentation/segmentor-logits.js';
import { SegmentorPredictor } from '../../../src/tasks/segmentation/segmentor-predict.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { compare, FIXTURES, PARITY_REL_TOL } from '../../helpers.js';
import { createSegmentorPredictor } from '../../../src/tasks/segmentation/segmentor-engine.js';

const DIR = join(FIXTURES, 'seg');
const MIN_AGREEMENT = 0.9999;

/** The fixture pattern h(c, y, x) (see gen_seg.py). */
function pattern(c: number, y: number, x: number): number {
  return (((x * (c + 2)) ^ (y * 3)) + ((x * y) >> 5)) & 255;
}

function tensorInput(h: number, w: number): HostTensor {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = (pattern(c, y, x) - 128) / 64;
  return { shape: [1, 3, h, w], data };
}

function imageInput(h: number, w: number): RgbImage {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = pattern(c, y, x);
  return { width: w, height: h, data };
}

/** Scores at the fixture's sampled pixels, as a [C, n] tensor. */
function sampled(s: ScoreMap, index: HostTensor): HostTensor {
  const n = index.data.length;
  const plane = s.height * s.width;
  const out = new Float32Array(s.channels * n);
  for (let k = 0; k < s.channels; k++) for (let i = 0; i < n; i++) out[k * n + i] = s.data[k * plane + index.data[i]];
  return { shape: [s.channels, n], data: out };
}

function agreement(actual: Labels, expected: HostTensor): number {
  expect([actual.height, actual.width]).toEqual(expected.shape);
  let same = 0;
  for (let i = 0; i < actual.data.length; i++) if (actual.data[i] === expected.data[i]) same++;
  return same / actual.data.length;
}

function check(what: string, actual: HostTensor, expected: HostTensor): void {
  const c = compare(actual, expected);
  console.log(`${what}: max abs err ${c.maxErr.toExponential(2)} (rel ${c.rel.toExponential(2)})`);
  expect(c.rel).toBeLessThanOrEqual(PARITY_REL_TOL);
}

function checkLabels(what: string, actual: Labels, expected: HostTensor): void {
  const a = agreement(actual, expected);
  console.log(`${what}: labels agree on ${(a * 100).toFixed(4)} %`);
  expect(a).toBeGreaterThanOrEqual(MIN_AGREEMENT);
}

let weights: Map<string, HostTensor>;
const predictors: SegmentorPredictor[] = [];

beforeAll(async () => {
  weights = (await loadWeights(join(DIR, 'seg.weights.safetensors'))).tensors;
});
afterAll(async () => {
  for (const p of predictors) await p.dispose();
});

function bound(cfg: SegmentorConfig): { model: Segmentor; weights: WeightMap } {
  const model = new Segmentor(cfg);
  const { weights: w, report } = bindWeights(model.scope.registry, weights);
  expect(report.missing).toEqual([]);
  expect(report.unexpected).toEqual([]);
  return { model, weights: w };
}

function segConfig(name: string, overrides: string[] = []): SegmentorConfig {
  const cfg = resolveConfig(name, overrides);
  if (cfg.type !== 'segmentor') throw new Error(`${name} is not a segmentor`);
  return cfg;
}

async function loadCase(name: string): Promise<{ t: Map<string, HostTensor>; meta: Record<string, unknown> }> {
  const { tensors, metadata } = await readSafetensors(join(DIR, `${name}.io.safetensors`));
  return { t: tensors, meta: JSON.parse(metadata.config ?? '{}') as Record<string, unknown> };
}

function get(t: Map<string, HostTensor>, key: string): HostTensor {
  const v = t.get(key);
  if (!v) throw new Error(`fixture lacks ${key}`);
  return v;
}

describe.each(ENGINES)('UPerNet segmentor golden outputs on %s', (engine) => {
  it('whole mode, 333×517: head logits, auxiliary logits, logits at input size, labels', async () => {
    const { t } = await loadCase('whole');
    const { model, weights: w } = bound(segConfig('test_upernet_convnext-narrow_cls5'));
    const input = tensorInput(333, 517);
    const heads = await createRunner(engine, model.network({ auxiliary: true, upsample: false }), w, { backend: 'wasm' });
    const out = await heads.run(input);
    await heads.dispose();
    check(`${engine} whole head logits`, out.logits, get(t, 'expected.head_logits'));
    check(`${engine} whole auxiliary logits`, out.aux_logits, get(t, 'expected.aux_head_logits'));
    // The deployable network (as exported) upsamples to the input size itself.
    const deploy = await createRunner(engine, segmentorNetwork(model.config), w, { backend: 'wasm' });
    const full = (await deploy.run(input)).logits;
    await deploy.dispose();
    check(`${engine} whole deploy-network logits (sampled)`, sampled(topLeft(full, 333, 517), get(t, 'sample_index')), get(t, 'expected.logits_sample'));
    const pred = await createSegmentorPredictor(model, w, engine, { backend: 'wasm' });
    predictors.push(pred);
    const scores = await pred.logits(input, 'whole');
    check(`${engine} whole logits (sampled)`, sampled(scores, get(t, 'sample_index')), get(t, 'expected.logits_sample'));
    checkLabels(`${engine} whole`, argmax(scores), get(t, 'expected.labels'));
  });

  it('slide mode (crop 128, stride 85), 333×517: stitched logits and labels', async () => {
    const { t } = await loadCase('slide');
    const { model, weights: w } = bound(segConfig('test_upernet_convnext-narrow_cls5_slide'));
    const pred = await createSegmentorPredictor(model, w, engine, { backend: 'wasm' });
    predictors.push(pred);
    const scores = await pred.logits(tensorInput(333, 517));
    check(`${engine} slide logits (sampled)`, sampled(scores, get(t, 'sample_index')), get(t, 'expected.logits_sample'));
    checkLabels(`${engine} slide`, argmax(scores), get(t, 'expected.labels'));
  });

  it('image pipeline 97×151: rescale into (256, 128), slide, resize to original; flip + multi-scale TTA', async () => {
    const { t, meta } = await loadCase('pipeline');
    const { model, weights: w } = bound(segConfig('test_upernet_convnext-narrow_cls5_slide', ['input.test_scale=[256,128]']));
    const pred = await createSegmentorPredictor(model, w, engine, { backend: 'wasm' });
    predictors.push(pred);
    const img = imageInput(97, 151);
    const x = pred.prepare(img, 1, false);
    expect(x.shape.slice(2)).toEqual(meta.resized);
    const atOriginal = resizeScores(await pred.logits(x), 97, 151);
    check(`${engine} pipeline logits at original size (sampled)`, sampled(atOriginal, get(t, 'sample_index')), get(t, 'expected.logits_sample'));
    const single = await pred.predict(img);
    checkLabels(`${engine} pipeline`, single.labels, get(t, 'expected.labels'));
    // The fused resize + argmax picks what argmax of the materialised resize picks.
    expect(Array.from(single.labels.data)).toEqual(Array.from(argmax(atOriginal).data));
    const tta = await pred.predict(img, { tta: true });
    expect(tta.passes.map((p) => [p.height, p.width])).toEqual((meta.tta_sizes as number[][]).flatMap((s) => [s, s]));
    if (!tta.probs) throw new Error('TTA returns probabilities');
    check(`${engine} TTA probabilities (sampled)`, sampled(tta.probs, get(t, 'sample_index')), get(t, 'expected.tta_probs_sample'));
    checkLabels(`${engine} TTA`, tta.labels, get(t, 'expected.tta_labels'));
  });
});
