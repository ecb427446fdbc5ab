/**
 * `convnext detect` and `convnext eval` through the real CLI on the tiny detector: outputs of a
 * folder run, a ground truth built from those detections evaluates to AP = 1 for bbox and segm
 * (perfect match), a model run prints the 12 numbers, and bad input gives one-line errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompressRle, rleArea } from '../../../src/io/coco/rle.js';
import type { CocoResult } from '../../../src/io/coco/types.js';
import { FIXTURES } from '../../helpers.js';
import { expectCocoClose } from '../../det-results.js';

const BIN = fileURLToPath(new URL('../../../bin/convnext.js', import.meta.url));
const W = join(FIXTURES, 'det', 'tv_maskrcnn.pth');
const CFG = 'test_mask-rcnn_convnext-narrow_tv';
const tmp = mkdtempSync(join(tmpdir(), 'convnext-det-'));
const images = join(tmp, 'images');
const out = join(tmp, 'out');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let detectRun: { code: number; stdout: string; stderr: string };

// One folder run (two images and a corrupt file) whose outputs every test below reads.
beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  for (const [name, w, h] of [['a.png', 90, 70], ['b.jpg', 64, 80]] as const) {
    const data = Buffer.from(Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * (name === 'a.png' ? 37 : 53)) % 251));
    await sharp(data, { raw: { width: w, height: h, channels: 3 } }).toFile(join(images, name));
  }
  writeFileSync(join(images, 'c.jpg'), 'not a jpeg');
  detectRun = await cli(['detect', '-c', CFG, '-w', W, '--image', images, '-o', out, '--score-thr', '0.2']);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('convnext detect', () => {
  it('lists a corrupt file at the end with a non-zero exit, after processing the others', () => {
    expect(detectRun.code).not.toBe(0);
    expect(detectRun.stderr).toMatch(/failed: .*c\.jpg: cannot read image/);
    expect(detectRun.stderr).toMatch(/error: 1 image\(s\) could not be read/);
  });

  it('writes per-image JSON and overlays, and a COCO results file', async () => {
    for (const f of ['a.json', 'a.png', 'b.json', 'b.png', 'results.json', 'images.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const a = JSON.parse(readFileSync(join(out, 'a.json'), 'utf8')) as { width: number; height: number; instances: Array<CocoResult & { class_name: string }> };
    expect([a.width, a.height]).toEqual([90, 70]);
    expect(a.instances.length).toBeGreaterThan(0);
    for (const ins of a.instances) {
      expect(ins.score).toBeGreaterThanOrEqual(0.2);
      expect(['cat', 'dog', 'car', 'tree', 'person']).toContain(ins.class_name);
      expect(ins.segmentation).toMatchObject({ size: [70, 90] });
    }
    const meta = await sharp(join(out, 'a.png')).metadata();
    // Overlays are drawn at 512 px on the long side (small inputs upscaled), same aspect.
    expect([meta.width, meta.height]).toEqual([512, Math.round(70 * (512 / 90))]);
  });
});

describe('convnext detect --batch', () => {
  it('runs a folder two images per network run: the same files, a corrupt one listed, the detections of the one-by-one run', async () => {
    // Images of one size pad to one size: then the batch gives each what it gets alone (mixed sizes
    // are padded to the largest, as mmdetection does: tests/tasks/detection/detector-batch.test.ts).
    const dir = join(tmp, 'same-size');
    mkdirSync(dir);
    for (const [name, mul] of [['p.png', 37], ['q.png', 53], ['r.png', 71]] as const) {
      const data = Buffer.from(Uint8Array.from({ length: 90 * 70 * 3 }, (_, i) => (i * mul) % 251));
      await sharp(data, { raw: { width: 90, height: 70, channels: 3 } }).toFile(join(dir, name));
    }
    writeFileSync(join(dir, 'c.jpg'), 'not a jpeg');
    const [one, two] = [join(tmp, 'out-b1'), join(tmp, 'out-b2')];
    expect((await cli(['detect', '-c', CFG, '-w', W, '--image', dir, '-o', one, '--score-thr', '0.2'])).code).toBe(2);
    const r = await cli(['detect', '-c', CFG, '-w', W, '--image', dir, '-o', two, '--score-thr', '0.2', '--batch', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/failed: .*c\.jpg: cannot read image/);
    for (const f of ['p.json', 'q.png', 'r.json', 'results.json', 'images.json']) expect(existsSync(join(two, f)), f).toBe(true);
    expect(readFileSync(join(two, 'images.json'), 'utf8')).toBe(readFileSync(join(one, 'images.json'), 'utf8'));
    const results = (d: string) => JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as CocoResult[];
    expect(results(one).length).toBeGreaterThan(0);
    expectCocoClose(results(two), results(one));
  });
});

describe('convnext eval', () => {
  it('a ground truth equal to the results gives AP 1 (bbox and segm); a model run prints 12 numbers each', async () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CocoResult[];
    const imgs = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as Array<{ id: number; file_name: string; width: number; height: number }>;
    // Ground truth: every detection with a non-empty mask becomes an object of its category.
    const kept = results.filter((r) => rleArea(decompressRle(r.segmentation as { size: [number, number]; counts: string })) > 0);
    const gt = {
      images: imgs.map((im) => ({ ...im, file_name: im.file_name.split('/').pop() })),
      categories: [1, 2, 3, 4, 5].map((id) => ({ id, name: ['cat', 'dog', 'car', 'tree', 'person'][id - 1] })),
      annotations: kept.map((r, i) => ({
        id: i + 1, image_id: r.image_id, category_id: r.category_id, bbox: r.bbox, iscrowd: 0,
        area: rleArea(decompressRle(r.segmentation as { size: [number, number]; counts: string })), segmentation: r.segmentation,
      })),
    };
    const ann = join(tmp, 'ann.json');
    writeFileSync(ann, JSON.stringify(gt));
    const perfect = join(tmp, 'perfect.json');
    writeFileSync(perfect, JSON.stringify(kept));
    const report = join(tmp, 'report.json');
    const r1 = await cli(['eval', '--data', ann, '--results', perfect, '--out', report]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/Evaluate annotation type \*bbox\*/);
    expect(r1.stdout).toMatch(/Evaluate annotation type \*segm\*/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as Record<string, { stats: Record<string, number> }>;
    expect(rep.bbox.stats.AP).toBeCloseTo(1, 10);
    expect(rep.segm.stats.AP).toBeCloseTo(1, 10);
    // The model itself on the same images: all 12 lines of both summaries.
    const r2 = await cli(['eval', '-c', CFG, '-w', W, '--data', ann, '--images', images, '--out', join(tmp, 'model.json')]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout.split('\n').filter((l) => l.startsWith(' Average'))).toHaveLength(24);
    const model = JSON.parse(readFileSync(join(tmp, 'model.json'), 'utf8')) as Record<string, { stats: Record<string, number> }>;
    expect(Object.keys(model.segm.stats)).toHaveLength(12);
  });

  it('an annotation file with a missing field gives one line naming it', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ images: [{ id: 1, width: 10 }], annotations: [], categories: [] }));
    const r = await cli(['eval', '--data', bad, '--results', join(out, 'results.json'), '--out', join(tmp, 'bad-report.json')]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.json.*height/);
  });

  it('detect with a classifier config is refused', async () => {
    const r = await cli(['detect', '-c', 'test_convnext-t-narrow_cls10', '-w', W, '--image', images, '-o', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error: config test_convnext-t-narrow_cls10 is a classifier, not a detector/);
  });
});
