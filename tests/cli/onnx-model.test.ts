/**
 * Exported ONNX files run with no config: `classify --model`, `features --model` and
 * `segment --model` (and the pipeline's `{ model }`) read the config and class names from the
 * file's metadata and give the same results as the config and weights they were exported from
 * (segmentation: the graph's in-graph resize to the input size instead of the host's, ≥ 99.9 % of
 * label pixels equal; detection: exactly, from an export with the `image_size` input). Mixed or unusable flags and
 * files without our metadata give one-line errors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../configs/index.js';
import { buildOnnx } from '../../src/core/ort/build.js';
import { initWeights } from '../../src/core/weights.js';
import { pipeline } from '../../src/index.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { featureModel } from '../../src/tasks/features.js';
import type { CocoResult } from '../../src/io/coco/types.js';
import { expectCocoClose, expectObjectsClose } from '../det-results.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const IMAGE = join(ASSETS, 'chelsea.jpg');
const CLS = ['-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors')];
const tmp = mkdtempSync(join(tmpdir(), 'convnext-onnx-model-'));
const clsOnnx = join(tmp, 'cls.onnx');
const featOnnx = join(tmp, 'feat.onnx');
const featWeights = join(tmp, 'feat.safetensors');
const segOnnx = join(tmp, 'seg.onnx');
const detOnnx = join(tmp, 'det.onnx');
const detSizedOnnx = join(tmp, 'det-sized.onnx');
const DET = ['-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors')];
const SHAPES = join(ASSETS, 'shapes');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 240_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  const a = await cli(['export', ...CLS, '-o', clsOnnx]);
  if (a.code !== 0) throw new Error(a.stderr);
  await writeSafetensors(featWeights, initWeights(featureModel(resolveConfig('test_convnext-narrow_dense')).network.registry, 4));
  const b = await cli(['export', '-c', 'test_convnext-narrow_dense', '-w', featWeights, '-o', featOnnx, '--dynamic']);
  if (b.code !== 0) throw new Error(b.stderr);
  const c = await cli(['export', '-c', 'demo_upernet_convnext-synth', '-w', join(ASSETS, 'upernet_convnext-synth.safetensors'), '-o', segOnnx, '--dynamic']);
  if (c.code !== 0) throw new Error(c.stderr);
  const d = await cli(['export', ...DET, '-o', detOnnx, '--dynamic']);
  if (d.code !== 0) throw new Error(d.stderr);
  const e = await cli(['export', ...DET, '-o', detSizedOnnx, '--dynamic', '--image-size-input']);
  if (e.code !== 0) throw new Error(e.stderr);
}, 240_000);

describe('running an exported ONNX file', () => {
  it('classify --model gives the same top-k as the config and weights', async () => {
    const ref = await cli(['classify', ...CLS, '--image', IMAGE, '--topk', '4']);
    const got = await cli(['classify', '--model', clsOnnx, '--image', IMAGE, '--topk', '4']);
    expect(got.code, got.stderr).toBe(0);
    expect((JSON.parse(got.stdout) as { topk: unknown }).topk).toEqual((JSON.parse(ref.stdout) as { topk: unknown }).topk);
  });

  it('features --model gives the same levels as the config and weights', async () => {
    const a = join(tmp, 'a.safetensors');
    const b = join(tmp, 'b.safetensors');
    expect((await cli(['features', '-c', 'test_convnext-narrow_dense', '-w', featWeights, '--image', IMAGE, '-o', a])).code).toBe(0);
    const r = await cli(['features', '--model', featOnnx, '--image', IMAGE, '-o', b]);
    expect(r.code, r.stderr).toBe(0);
    const [ta, tb] = [(await readSafetensors(a)).tensors, (await readSafetensors(b)).tensors];
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    for (const [k, t] of ta) {
      expect(tb.get(k)!.shape).toEqual(t.shape);
      let d = 0;
      t.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - tb.get(k)!.data[i]))));
      expect(d, k).toBeLessThanOrEqual(1e-5);
    }
  });

  it('a segmentor export (logits at the input size) segments as its config and weights: ≥ 99.9 % of pixels equal, whole and slide', async () => {
    const byModel = await pipeline('image-segmentation', { model: segOnnx });
    const byConfig = await pipeline('image-segmentation', { config: 'demo_upernet_convnext-synth' });
    for (const [i, mode] of [[0, 'whole'], [1, 'whole'], [2, 'slide']] as const) {
      const image = join(ASSETS, 'shapes', `shapes_${i}.png`);
      const a = await byModel(image, { mode });
      const b = await byConfig(image, { mode });
      let same = 0;
      a.labels.forEach((v, p) => (same += v === b.labels[p] ? 1 : 0));
      expect(same / a.labels.length, `shapes_${i} ${mode}`).toBeGreaterThanOrEqual(0.999);
      console.log(`segment --model vs config, shapes_${i} ${mode}: ${(100 * same / a.labels.length).toFixed(3)} % of label pixels equal`);
    }
    await byModel.dispose();
    await byConfig.dispose();
    const out = join(tmp, 'seg-out');
    const r = await cli(['segment', '--model', segOnnx, '--image', join(ASSETS, 'shapes', 'shapes_3.png'), '-o', out, '--no-overlay']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('a detector exported with --image-size-input (the batched graph) detects as its config and weights, at any --batch (detect --model and the pipeline)', async () => {
    const [a, b, c] = [join(tmp, 'det-config'), join(tmp, 'det-model'), join(tmp, 'det-model-b3')];
    expect((await cli(['detect', ...DET, '--image', SHAPES, '-o', a, '--no-overlay'])).code).toBe(0);
    const r = await cli(['detect', '--model', detSizedOnnx, '--image', SHAPES, '-o', b, '--no-overlay']);
    expect(r.code, r.stderr).toBe(0);
    const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as CocoResult[];
    // The batched graph runs the same model through other kernels: float rounding, not bits (BATCH_TOLERANCE).
    expectCocoClose(results(b), results(a));
    // 3 per run: one batch of 3 and one of 1 (4 samples of one size: each image as at batch 1).
    const r3 = await cli(['detect', '--model', detSizedOnnx, '--image', SHAPES, '-o', c, '--no-overlay', '--batch', '3']);
    expect(r3.code, r3.stderr).toBe(0);
    expectCocoClose(results(c), results(b));
    // A fixed-size export is a one-image graph: --batch runs its images one by one.
    const fixed = join(tmp, 'det-320.onnx');
    expect((await cli(['export', ...DET, '-o', fixed, '--size', '320', '--image-size-input'])).code).toBe(0);
    const f = join(tmp, 'det-fixed-b3');
    const rf = await cli(['detect', '--model', fixed, '--image', SHAPES, '-o', f, '--no-overlay', '--batch', '3']);
    expect(rf.code, rf.stderr).toBe(0);
    expectCocoClose(results(f), results(a));
    const byModel = await pipeline('object-detection', { model: detSizedOnnx });
    const byConfig = await pipeline('object-detection');
    const image = join(SHAPES, 'shapes_1.png');
    expectObjectsClose(await byModel(image), await byConfig(image));
    // A single-input export runs too: the padded input is its image (boxes clipped to it).
    const single = await pipeline('object-detection', { model: detOnnx });
    const objects = await single(image);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(single.classNames).toContain(o.label);
    for (const p of [byModel, byConfig, single]) await p.dispose();
    const bad = await cli(['export', ...CLS, '-o', join(tmp, 'x.onnx'), '--image-size-input']);
    expect(bad.stderr.trim()).toMatch(/^error: --image-size-input applies to detectors; test_convnext-t-narrow_cls10 is a classifier$/);
  });

  it('pipeline({ model }) classifies as pipeline({ config, weights })', async () => {
    const byModel = await pipeline('image-classification', { model: clsOnnx });
    const byConfig = await pipeline('image-classification', { config: 'test_convnext-t-narrow_cls10' });
    expect(byModel.classNames).toEqual(byConfig.classNames);
    expect(await byModel(IMAGE, { topk: 3 })).toEqual(await byConfig(IMAGE, { topk: 3 }));
    await byModel.dispose();
    await byConfig.dispose();
    await expect(pipeline('object-detection', { model: clsOnnx })).rejects.toThrow(/cls\.onnx is a classifier, not a detector/);
    await expect(pipeline('image-classification', { model: clsOnnx, engine: 'tfjs' })).rejects.toThrow(/runs on the ort engine/);
  });

  it('mixed flags, other engines and files without our metadata give one line', async () => {
    const both = await cli(['classify', '--model', clsOnnx, ...CLS, '--image', IMAGE]);
    expect(both.stderr.trim()).toMatch(/^error: give --model, or --config and --weights, not both$/);
    const tfjs = await cli(['classify', '--model', clsOnnx, '-e', 'tfjs', '--image', IMAGE]);
    expect(tfjs.stderr.trim()).toMatch(/^error: --model runs on the ort engine, not tfjs$/);
    const neither = await cli(['classify', '--image', IMAGE]);
    expect(neither.stderr.trim()).toMatch(/^error: give --config .* or --model/);
    const cfg = resolveConfig('test_convnext-t-narrow_cls10');
    if (cfg.type !== 'classifier') throw new Error('expected a classifier');
    const fm = featureModel(cfg);
    const plain = join(tmp, 'plain.onnx');
    writeFileSync(plain, buildOnnx(fm.network, initWeights(fm.network.registry, 0)));
    const r = await cli(['classify', '--model', plain, '--image', IMAGE]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/plain\.onnx: no convnext metadata \(convnext\.config\)/);
  });
});
