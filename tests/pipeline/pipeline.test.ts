/**
 * The pipeline API against the CLI on the bundled demo models and sample images, on both engines
 * (tfjs on wasm): the same detections (labels, boxes, scores, RLE masks), label maps, top-k
 * classes and feature levels as `convnext detect`, `segment`, `classify` and `features` — exactly
 * equal, since both run the same predictors. Inputs as paths, bytes, sharp instances and RGB
 * pixels give the same results; arrays give one result per image; bad options and inputs reject
 * with one-line messages; disposal leaves no tensors behind.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { NAMED_CONFIGS, pipeline } from '../../src/index.js';
import { expectObjectsClose } from '../det-results.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readRgb } from '../../src/io/image.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const SHAPES = join(ASSETS, 'shapes');
const IMAGES = readdirSync(SHAPES).filter((f) => f.endsWith('.png')).sort().map((f) => join(SHAPES, f));
const tmp = mkdtempSync(join(tmpdir(), 'convnext-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

const DET = ['-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors')];
const SEG = ['-c', 'demo_upernet_convnext-synth', '-w', join(ASSETS, 'upernet_convnext-synth.safetensors')];
const CLS = ['-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors')];

interface CliInstance { bbox: number[]; score: number; label: number; class_name: string; segmentation: { size: number[]; counts: string } }

describe.each(['ort', 'tfjs'] as const)('pipeline on %s equals the CLI', (engine) => {
  const opts = { engine, backend: 'wasm' as const };

  it('object-detection: the same instances as convnext detect', async () => {
    const out = join(tmp, `det-${engine}`);
    const r = await cli(['detect', ...DET, '-e', engine, '--backend', 'wasm', '--image', SHAPES, '-o', out, '--no-overlay']);
    expect(r.code, r.stderr).toBe(0);
    const detect = await pipeline('object-detection', opts);
    const results = await detect(IMAGES);
    await detect.dispose();
    expect(results).toHaveLength(IMAGES.length);
    let total = 0;
    // An array runs as one batch (the 320² samples pad to one size): each image's objects are the
    // one-by-one CLI run's to float rounding (BATCH_TOLERANCE).
    results.forEach((objects, i) => {
      const ref = (JSON.parse(readFileSync(join(out, `shapes_${i}.json`), 'utf8')) as { instances: CliInstance[] }).instances;
      expect(objects.map((o) => `${o.labelId} ${o.label}`).sort()).toEqual(ref.map((d) => `${d.label} ${d.class_name}`).sort());
      expectObjectsClose(objects, ref.map((d) => ({
        label: d.class_name, score: d.score, box: { xmin: d.bbox[0], ymin: d.bbox[1], xmax: d.bbox[0] + d.bbox[2], ymax: d.bbox[1] + d.bbox[3] }, mask: d.segmentation,
      })));
      total += objects.length;
    });
    expect(total).toBeGreaterThan(0);
  });

  it('image-segmentation: the same label maps and class shares as convnext segment', async () => {
    const out = join(tmp, `seg-${engine}`);
    const r = await cli(['segment', ...SEG, '-e', engine, '--backend', 'wasm', '--image', SHAPES, '-o', out, '--no-overlay']);
    expect(r.code, r.stderr).toBe(0);
    const segment = await pipeline('image-segmentation', opts);
    for (const [i, file] of IMAGES.entries()) {
      const res = await segment(file);
      const ref = await readRgb(join(out, `shapes_${i}.labels.png`));
      expect([res.width, res.height]).toEqual([ref.width, ref.height]);
      const refLabels = Uint16Array.from({ length: ref.width * ref.height }, (_, p) => ref.data[3 * p]);
      expect(res.labels).toEqual(refLabels);
      const shares = (JSON.parse(readFileSync(join(out, `shapes_${i}.json`), 'utf8')) as { classes: Array<{ index: number; name: string; fraction: number }> }).classes;
      expect(res.classes.map((c) => [c.labelId, c.label, c.share])).toEqual(shares.map((c) => [c.index, c.name, c.fraction]));
    }
    // An array of same-size images is one batched engine call in whole mode: the same label maps.
    const batch = await segment(IMAGES, { mode: 'whole' });
    for (const [i, file] of IMAGES.entries()) expect(batch[i].labels).toEqual((await segment(file, { mode: 'whole' })).labels);
    await segment.dispose();
  });

  it('image-classification and image-feature-extraction: the same as convnext classify and features', async () => {
    const image = join(ASSETS, 'chelsea.jpg');
    const r = await cli(['classify', ...CLS, '-e', engine, '--backend', 'wasm', '--image', image, '--topk', '3']);
    expect(r.code, r.stderr).toBe(0);
    const ref = (JSON.parse(r.stdout) as { topk: Array<{ index: number; label: string; score: number }> }).topk;
    const classify = await pipeline('image-classification', opts);
    const top = await classify(image, { topk: 3 });
    // An array is one batched engine call: per image, the same classes and (to float rounding) scores.
    const batch = await classify([image, IMAGES[0], image], { topk: 3 });
    await classify.dispose();
    expect(top).toEqual(ref.map((t) => ({ label: t.label, labelId: t.index, score: t.score })));
    for (const i of [0, 2]) {
      expect(batch[i].map((c) => c.labelId)).toEqual(top.map((c) => c.labelId));
      batch[i].forEach((c, k) => expect(Math.abs(c.score - top[k].score)).toBeLessThan(1e-5));
    }

    const file = join(tmp, `feat-${engine}.safetensors`);
    const f = await cli(['features', ...SEG, '-e', engine, '--backend', 'wasm', '--image', IMAGES[0], '-o', file]);
    expect(f.code, f.stderr).toBe(0);
    const levels = (await readSafetensors(file)).tensors;
    const extract = await pipeline('image-feature-extraction', opts);
    const feats = await extract(IMAGES[0]);
    await extract.dispose();
    expect(Object.keys(feats)).toEqual(['p2', 'p3', 'p4', 'p5']);
    for (const [name, level] of Object.entries(feats)) {
      expect(level.shape).toEqual(levels.get(name)!.shape);
      expect(level.data).toEqual(levels.get(name)!.data);
      expect(level.shape[1]).toBe(level.channels);
    }
  });
});

describe('pipeline inputs, options and errors', () => {
  it('paths, bytes, sharp instances and RGB pixels give the same detections', async () => {
    const detect = await pipeline('instance-segmentation');
    const file = IMAGES[1];
    const bytes = readFileSync(file);
    const rgb = await readRgb(file);
    const [a, b, c, d] = await detect([file, new Uint8Array(bytes), sharp(bytes), rgb]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(d).toEqual(a);
    const noMasks = await detect(file, { threshold: 0.9, mask: false });
    expect(noMasks.every((o) => o.mask === undefined && o.score >= 0.9)).toBe(true);
    expect(detect.classNames).toEqual(['circle', 'square', 'triangle', 'star']);
    await detect[Symbol.asyncDispose]();
    await expect(detect(file)).rejects.toThrow(/disposed/);
  });

  it("nms: 'agnostic' keeps one class per object: a subset of the class-wise result without cross-class overlaps", async () => {
    const detect = await pipeline('object-detection');
    const iou = (a: { box: { xmin: number; ymin: number; xmax: number; ymax: number } }, b: typeof a) => {
      const w = Math.max(0, Math.min(a.box.xmax, b.box.xmax) - Math.max(a.box.xmin, b.box.xmin));
      const h = Math.max(0, Math.min(a.box.ymax, b.box.ymax) - Math.max(a.box.ymin, b.box.ymin));
      const area = (x: typeof a) => (x.box.xmax - x.box.xmin) * (x.box.ymax - x.box.ymin);
      return (w * h) / (area(a) + area(b) - w * h);
    };
    let removed = 0;
    for (const file of IMAGES) {
      const all = await detect(file, { mask: false });
      const one = await detect(file, { mask: false, nms: 'agnostic' });
      for (const o of one) expect(all).toContainEqual(o);
      for (let i = 0; i < one.length; i++) for (let j = i + 1; j < one.length; j++) expect(iou(one[i], one[j])).toBeLessThanOrEqual(0.5 + 1e-6);
      removed += all.length - one.length;
    }
    // The demo detector scores overlapping shapes of two classes on the samples (e.g. a square also as a circle).
    expect(removed).toBeGreaterThan(0);
    await detect.dispose();
  });

  it('a config object with overrides and a weights file gives what the named config gives', async () => {
    const named = await pipeline('image-segmentation', { config: 'demo_upernet_convnext-synth', set: ['test.mode=slide', 'test.crop_size=[96,96]', 'test.stride=[64,64]'] });
    const object = await pipeline('image-segmentation', {
      config: NAMED_CONFIGS['demo_upernet_convnext-synth'],
      set: ['test.mode=slide', 'test.crop_size=[96,96]', 'test.stride=[64,64]'],
      weights: join(ASSETS, 'upernet_convnext-synth.safetensors'),
    });
    expect(object.config).toEqual(named.config);
    expect(await object(IMAGES[2])).toEqual(await named(IMAGES[2]));
    await named.dispose();
    await object.dispose();
  });

  it('rejects bad options and inputs with one-line messages', async () => {
    await expect(pipeline('image-classification', { config: 'demo_upernet_convnext-synth' })).rejects.toThrow(/demo_upernet_convnext-synth is a segmentor, not a classifier/);
    await expect(pipeline('object-detection', { config: 'mask-rcnn_convnext-t_fpn_3x_coco' })).rejects.toThrow(/mask-rcnn_convnext-t_fpn_3x_coco needs weights/);
    await expect(pipeline('object-detection', { config: 'mask-rcnn_convnext-x' })).rejects.toThrow(/mask-rcnn_convnext-x/);
    // @ts-expect-error: an unknown task
    await expect(pipeline('depth-estimation')).rejects.toThrow(/unknown task 'depth-estimation'/);
    const classify = await pipeline('image-classification');
    await expect(classify(join(tmp, 'missing.png'))).rejects.toThrow(/missing\.png: file not found/);
    await expect(classify({ width: 2, height: 2, data: new Uint8Array(5) })).rejects.toThrow(/input 0: RGB pixels need width × height × 3 bytes/);
    await expect(classify(new Uint8Array([1, 2, 3]))).rejects.toThrow(/input 0 \(buffer\): cannot read image/);
    await classify.dispose();
  });

  it('a tfjs pipeline leaves no tensors behind after dispose', async () => {
    const before = tf.memory().numTensors;
    const segment = await pipeline('image-segmentation', { engine: 'tfjs', backend: 'wasm' });
    await segment(IMAGES[0]);
    await segment(IMAGES[1]);
    await segment.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
