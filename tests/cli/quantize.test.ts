/**
 * `convnext quantize` end to end on the bundled demo models: static int8 calibrated on images or
 * synthetic scenes, dynamic int8, the report, `eval --model` on the int8 files (figures within a
 * stated distance of the float model's on a small held-out synthetic set), `bench --int8`, and
 * the errors of bad calibration data or models.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, metadataOf } from '../../src/core/ort/quant/onnx-proto.js';
import { runCli } from '../helpers.js';

const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const SEG = ['-c', 'demo_upernet_convnext-synth', '-w', join(ASSETS, 'upernet_convnext-synth.safetensors')];
const DET = ['-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors')];
const tmp = mkdtempSync(join(tmpdir(), 'convnext-quantize-'));
const SHAPES_DIR = join(ASSETS, 'shapes');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHAPES = ['--min-size', '0.25', '--max-size', '0.5', '--max-objects', '4'];
beforeAll(async () => {
  // Held-out sets of the demo models' domain (other seeds than the calibration images).
  for (const [task, size] of [['det', '320'], ['seg', '160']]) {
    const r = await runCli(['synth', '--task', task, '--out', join(tmp, task), '--n', '6', '--size', size, '--seed', '11', ...SHAPES]);
    expect(r.code, r.stderr).toBe(0);
  }
  const r = await runCli(['synth', '--task', 'det', '--out', join(tmp, 'calib'), '--n', '6', '--size', '320', '--seed', '12', ...SHAPES]);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

/** An eval's JSON report. */
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as { mIoU: number; bbox: { stats: { AP: number } }; segm: { stats: { AP: number } } };

describe('convnext quantize', () => {
  it('segmentor, static on synthetic scenes: report, metadata, and eval --model within 2 points of float mIoU', async () => {
    const out = join(tmp, 'seg.int8.onnx');
    const q = await runCli(['quantize', ...SEG, '--synth', '4', '-o', out]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/static \(minmax, per-channel weights\): \d+ Conv\/Gemm\/MatMul nodes quantized/);
    expect(q.stdout).toMatch(/integer kernels: \d+ QLinearConv, \d+ MatMulIntegerToFloat; float: /);
    expect(q.stdout).toMatch(/cosine vs float, logits: min 0\.99/);
    expect(q.stdout).toMatch(/pixel label agreement: (99|100)\.\d+ % over 4 images/);
    const md = metadataOf(decodeModel(readFileSync(out)));
    expect(JSON.parse(md['convnext.quantization'])).toMatchObject({ mode: 'static', method: 'minmax', per_channel: true });
    expect(md['convnext.config']).toBeDefined();
    const [ef, eq] = [join(tmp, 'seg-fp32.json'), join(tmp, 'seg-int8.json')];
    const f = await runCli(['eval', ...SEG, '--data', join(tmp, 'seg'), '--out', ef]);
    expect(f.code, f.stderr).toBe(0);
    const e = await runCli(['eval', '--model', out, '--data', join(tmp, 'seg'), '--out', eq]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('mIoU');
    const [a, b] = [readJson(ef).mIoU, readJson(eq).mIoU];
    console.log(`seg mIoU float ${a}, int8 ${b}`);
    expect(a).toBeGreaterThan(50);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(2);
  }, 120_000);

  it('detector, static on a calibration folder: eval --model within 0.05 box and mask AP of float', async () => {
    const out = join(tmp, 'det.int8.onnx');
    const q = await runCli(['quantize', ...DET, '--calib', join(tmp, 'calib', 'images'), '--method', 'percentile', '-o', out]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/float detections matched \(same label, box IoU ≥ 0\.5\): \d+\.\d+ % over 6 images/);
    const data = ['--data', join(tmp, 'det', 'annotations.json'), '--images', join(tmp, 'det', 'images')];
    const [ef, eq] = [join(tmp, 'det-fp32.json'), join(tmp, 'det-int8.json')];
    const f = await runCli(['eval', ...DET, ...data, '--out', ef]);
    expect(f.code, f.stderr).toBe(0);
    const e = await runCli(['eval', '--model', out, ...data, '--out', eq]);
    expect(e.code, e.stderr).toBe(0);
    const [a, b] = [readJson(ef), readJson(eq)];
    console.log(`det box AP float ${a.bbox.stats.AP}, int8 ${b.bbox.stats.AP}; mask AP float ${a.segm.stats.AP}, int8 ${b.segm.stats.AP}`);
    expect(a.bbox.stats.AP).toBeGreaterThan(0.5);
    expect(Math.abs(a.bbox.stats.AP - b.bbox.stats.AP)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(a.segm.stats.AP - b.segm.stats.AP)).toBeLessThanOrEqual(0.05);
  }, 120_000);

  it('classifier, dynamic with reduced range, JSON report: top-1 agreement and integer matmuls', async () => {
    const out = join(tmp, 'cls.int8.onnx');
    const q = await runCli(['quantize', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '--mode', 'dynamic', '--reduce-range', '--synth', '3', '--json', '-o', out]);
    expect(q.code, q.stderr).toBe(0);
    const r = JSON.parse(q.stdout) as { mode: string; kernels: { integer: Record<string, number> }; agreement: { measure: string; value: number }; cosine: Record<string, { min: number }> };
    expect(r.mode).toBe('dynamic');
    expect(r.kernels.integer.DynamicQuantizeMatMul).toBeGreaterThan(0);
    expect(r.agreement.measure).toBe('top-1 label agreement');
    expect(r.cosine.logits.min).toBeGreaterThan(0.98);
    expect(JSON.parse(metadataOf(decodeModel(readFileSync(out)))['convnext.quantization'])).toMatchObject({ mode: 'dynamic', reduce_range: true });
  }, 60_000);

  it('bench --int8 times the quantized graph beside the float one', async () => {
    const r = await runCli(['bench', '-c', 'test_convnext-t-narrow_cls10', '--int8', '--runs', '2', '--warmup', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { int8_mode: string; int8_median_ms: number; int8_ratio: number };
    expect(j.int8_mode).toBe('static');
    expect(j.int8_median_ms).toBeGreaterThan(0);
    expect(j.int8_ratio).toBeGreaterThan(0);
  }, 60_000);
});

describe('convnext quantize: bad input', () => {
  const errorLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('error:'));

  it('an empty calibration folder', async () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir, { recursive: true });
    const r = await runCli(['quantize', ...SEG, '--calib', dir, '-o', join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toEqual([`error: --calib ${dir}: the folder has no images`]);
  });

  it('unreadable calibration images are listed; none readable is an error', async () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.png'), 'not an image');
    const r = await runCli(['quantize', ...SEG, '--calib', dir, '-o', join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('skipped 1 unreadable calibration image');
    expect(r.stderr).toContain(join(dir, 'a.png'));
    expect(errorLine(r.stderr)).toEqual([`error: --calib ${dir}: none of its 1 images could be read`]);
  });

  it('static mode without calibration images', async () => {
    const r = await runCli(['quantize', ...SEG, '-o', join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)[0]).toMatch(/static quantization needs calibration images/);
  });

  it('a model that cannot be quantized: already int8, not ONNX, a batched detector in static mode (dynamic mode quantizes it)', async () => {
    const int8 = join(tmp, 'once.int8.onnx');
    expect((await runCli(['quantize', ...SEG, '--mode', 'dynamic', '-o', int8])).code).toBe(0);
    const again = await runCli(['quantize', '--model', int8, '--mode', 'dynamic', '-o', join(tmp, 'x.onnx')]);
    expect(again.code).toBe(2);
    expect(errorLine(again.stderr)[0]).toMatch(/already quantized/);
    const txt = join(tmp, 'model.onnx');
    writeFileSync(txt, 'hello');
    const bad = await runCli(['quantize', '--model', txt, '--mode', 'dynamic', '-o', join(tmp, 'x.onnx')]);
    expect(bad.code).toBe(2);
    expect(errorLine(bad.stderr)[0]).toMatch(/not a readable ONNX model/);
    // A batched detector export (--dynamic): its heads run in a Loop body the rewrite leaves float;
    // static mode is refused, dynamic mode quantizes the backbone and neck.
    const batched = join(tmp, 'det-dynamic.onnx');
    expect((await runCli(['export', ...DET, '-o', batched, '--dynamic', '--image-size-input'])).code).toBe(0);
    const loop = await runCli(['quantize', '--model', batched, '--synth', '2', '-o', join(tmp, 'x.onnx')]);
    expect(loop.code).toBe(2);
    expect(errorLine(loop.stderr)).toEqual([`error: ${batched}: a batched detector graph (its heads in an ONNX Loop) quantizes in dynamic mode only (--mode dynamic); or quantize a fixed-size export (--size) or the config`]);
    const detInt8 = join(tmp, 'det-dynamic.int8.onnx');
    const dyn = await runCli(['quantize', '--model', batched, '--mode', 'dynamic', '-o', detInt8]);
    expect(dyn.code, dyn.stderr).toBe(0);
    expect(dyn.stdout + dyn.stderr).toMatch(/onnxruntime runs as integer kernels: \d+ ConvInteger/);
    const [fp, q] = [join(tmp, 'det-fp'), join(tmp, 'det-q')];
    expect((await runCli(['detect', '--model', batched, '--image', SHAPES_DIR, '-o', fp, '--no-overlay', '--batch', '4'])).code).toBe(0);
    const r8 = await runCli(['detect', '--model', detInt8, '--image', SHAPES_DIR, '-o', q, '--no-overlay', '--batch', '4']);
    expect(r8.code, r8.stderr).toBe(0);
    // The confident detections (score > 0.5) are the float model's: same images and classes.
    const confident = (d: string) => (JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as Array<{ image_id: number; category_id: number; score: number }>)
      .filter((x) => x.score > 0.5).map((x) => `${x.image_id}:${x.category_id}`).sort();
    expect(confident(q)).toEqual(confident(fp));
    expect(confident(fp).length).toBeGreaterThan(0);
  });

  it('--method with dynamic mode', async () => {
    const r = await runCli(['quantize', ...SEG, '--mode', 'dynamic', '--method', 'entropy', '-o', join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)[0]).toMatch(/--method applies to static quantization/);
  });

  it('a bad --exclude pattern', async () => {
    const r = await runCli(['quantize', ...SEG, '--mode', 'dynamic', '--exclude', '(', '-o', join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toEqual(["error: exclude pattern '(' (--exclude) is not a regular expression"]);
  });
});
