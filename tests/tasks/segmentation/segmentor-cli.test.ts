/**
 * `convnext segment` and the segmentation eval on awkward inputs, with the tiny UPerNet and its
 * fixture weights: 1×1, 4000×3000, grayscale, RGBA, 16-bit, EXIF-rotated JPEG, a corrupt file in
 * a folder (the others are written, the failure is listed, exit code non-zero), and eval against
 * label maps (its own predictions score 100 %; a label map of the wrong size is a clear error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { evalSegmentation } from '../../../src/cli/commands/eval-seg.js';
import { segmentImages, type SegmentFlags } from '../../../src/cli/commands/segment.js';
import { decodeLabelPng, encodeLabelPng } from '../../../src/io/label-png.js';
import { FIXTURES } from '../../helpers.js';

const WEIGHTS = join(FIXTURES, 'seg', 'seg.weights.safetensors');
const CONFIG = 'test_upernet_convnext-narrow_cls5';
let dir: string;

function flags(image: string, out: string, extra: Partial<SegmentFlags> = {}): SegmentFlags {
  return { config: CONFIG, weights: WEIGHTS, engine: 'ort', backend: 'wasm', image: [image], out, opacity: 0.5, overlay: true, ...extra };
}

/** A smooth colourful test image. */
function pixels(w: number, h: number, channels: number): Buffer {
  const b = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) b[(y * w + x) * channels + c] = (x * (c + 1) * 3 + y * 5) & 255;
  return b;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'seg-cli-'));
  const imgs = join(dir, 'images');
  mkdirSync(imgs);
  await sharp(pixels(1, 1, 3), { raw: { width: 1, height: 1, channels: 3 } }).png().toFile(join(imgs, 'a_1x1.png'));
  await sharp(pixels(90, 70, 1), { raw: { width: 90, height: 70, channels: 1 } }).png().toFile(join(imgs, 'b_grey.png'));
  await sharp(pixels(80, 60, 4), { raw: { width: 80, height: 60, channels: 4 } }).png().toFile(join(imgs, 'c_rgba.png'));
  await sharp(pixels(70, 50, 3), { raw: { width: 70, height: 50, channels: 3 } }).toColourspace('rgb16').png().toFile(join(imgs, 'd_16bit.png'));
  // Stored 40 wide × 64 high with EXIF orientation 6 (rotate 90° clockwise): upright it is 64 × 40.
  await sharp(pixels(40, 64, 3), { raw: { width: 40, height: 64, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(imgs, 'e_exif.jpg'));
  writeFileSync(join(imgs, 'f_corrupt.jpg'), Buffer.from('this is not a jpeg at all'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convnext segment --batch', () => {
  it('--batch 3 writes the label maps --batch 1 writes (same-size images run as one engine batch), and still lists the corrupt file', async () => {
    const imgs = join(dir, 'same');
    mkdirSync(imgs);
    for (const [k, name] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      const px = pixels(96, 64, 3).map((v, i) => (v + k * 37 + (i % 7) * k) & 255);
      await sharp(px, { raw: { width: 96, height: 64, channels: 3 } }).png().toFile(join(imgs, `${name}.png`));
    }
    writeFileSync(join(imgs, 'f_corrupt.png'), 'not a png');
    const one = join(dir, 'batch1');
    const three = join(dir, 'batch3');
    const failed1 = await segmentImages(flags(imgs, one, { overlay: false, batch: 1 }));
    const failed3 = await segmentImages(flags(imgs, three, { overlay: false, batch: 3 }));
    expect(failed3).toEqual(failed1);
    expect(failed3.map((x) => x.file)).toEqual([join(imgs, 'f_corrupt.png')]);
    const labels = ['a', 'b', 'c', 'd', 'e'].map((name) => readFileSync(join(one, `${name}.labels.png`)));
    expect(new Set(labels.map((b) => b.toString('base64'))).size, 'the images segment differently').toBeGreaterThan(1);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      expect(readFileSync(join(three, `${name}.labels.png`)).equals(readFileSync(join(one, `${name}.labels.png`))), name).toBe(true);
    }
  });
});

describe('convnext segment', () => {
  it('processes a folder of odd images (with TTA), lists the corrupt one, writes labels, overlay and JSON atomically', async () => {
    const out = join(dir, 'out');
    const failed = await segmentImages(flags(join(dir, 'images'), out, { tta: true }));
    expect(failed.map((f) => f.file)).toEqual([join(dir, 'images', 'f_corrupt.jpg')]);
    expect(failed[0].error).toMatch(/f_corrupt\.jpg: cannot read image/);
    const expectSizes: Record<string, [number, number]> = { a_1x1: [1, 1], b_grey: [90, 70], c_rgba: [80, 60], d_16bit: [70, 50], e_exif: [64, 40] };
    for (const [stem, [w, h]] of Object.entries(expectSizes)) {
      const labels = decodeLabelPng(readFileSync(join(out, `${stem}.labels.png`)), stem);
      expect([labels.width, labels.height], stem).toEqual([w, h]);
      expect(Math.max(...labels.data)).toBeLessThan(5);
      const overlay = await sharp(join(out, `${stem}.overlay.png`)).metadata();
      // The picture at >= 512 px on its long side (same aspect), plus the legend panel on the right.
      const scale = Math.max(1, 512 / Math.max(w, h));
      expect(overlay.height).toBe(Math.round(h * scale));
      expect(overlay.width!).toBeGreaterThan(Math.round(w * scale));
      const summary = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as { width: number; height: number; classes: Array<{ name: string; pixels: number; fraction: number }> };
      expect([summary.width, summary.height]).toEqual([w, h]);
      expect(summary.classes.reduce((s, c) => s + c.pixels, 0)).toBe(w * h);
      expect(summary.classes.reduce((s, c) => s + c.fraction, 0)).toBeCloseTo(1, 5);
      expect(['sky', 'tree', 'road', 'car', 'person']).toEqual(expect.arrayContaining(summary.classes.map((c) => c.name)));
    }
    // No temporary files are left behind.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('segments a 4000×3000 image (rescaled into (2048, 512) first) back at full size', async () => {
    const big = join(dir, 'big.jpg');
    await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(big);
    const out = join(dir, 'out-big');
    const failed = await segmentImages(flags(big, out, { set: ['input.test_scale=[2048,512]'] }));
    expect(failed).toEqual([]);
    const labels = decodeLabelPng(readFileSync(join(out, 'big.labels.png')), 'big');
    expect([labels.width, labels.height]).toEqual([4000, 3000]);
    const summary = JSON.parse(readFileSync(join(out, 'big.json'), 'utf8')) as { passes: Array<{ height: number; width: number; flip: boolean }> };
    expect(summary.passes.map((p) => [p.width, p.height])).toEqual([[683, 512]]);
  });

  it('keeps the extension in output names when two images share a stem', async () => {
    const both = join(dir, 'same-stem');
    mkdirSync(both);
    await sharp(pixels(40, 40, 3), { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(both, 'x.png'));
    await sharp(pixels(48, 40, 3), { raw: { width: 48, height: 40, channels: 3 } }).jpeg().toFile(join(both, 'x.jpg'));
    const out = join(dir, 'out-same');
    expect(await segmentImages(flags(both, out, { overlay: false }))).toEqual([]);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(out).sort()).toEqual(['x.jpg.json', 'x.jpg.labels.png', 'x.png.json', 'x.png.labels.png']);
  });

  it('exits non-zero from the command line when a file in the folder fails, after writing the others', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = join(dir, 'out-cli');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'segment', '-c', CONFIG, '-w', WEIGHTS, '--image', join(dir, 'images'), '-o', out, '--no-overlay'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/failed: .*f_corrupt\.jpg: cannot read image/);
    expect(r.stderr).toMatch(/error: 1 image\(s\) could not be segmented/);
    expect(readFileSync(join(out, 'b_grey.json'), 'utf8')).toContain('"classes"');
  });
});

describe('segmentation eval', () => {
  it('scores the model\'s own label maps (+1, as ADE20K stores them) at 100 % and refuses a label map of the wrong size', async () => {
    const data = join(dir, 'ds');
    mkdirSync(join(data, 'images', 'val'), { recursive: true });
    mkdirSync(join(data, 'annotations', 'val'), { recursive: true });
    const sizes: Array<[number, number]> = [[96, 64], [70, 90]];
    for (const [i, [w, h]] of sizes.entries()) await sharp(pixels(w, h, 3), { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(data, 'images', 'val', `im${i}.png`));
    const pred = join(dir, 'ds-pred');
    expect(await segmentImages(flags(join(data, 'images', 'val'), pred, { overlay: false }))).toEqual([]);
    for (let i = 0; i < sizes.length; i++) {
      const l = decodeLabelPng(readFileSync(join(pred, `im${i}.labels.png`)), 'pred');
      // reduce_zero_label: stored label = class + 1 (0 would be "other", ignored).
      writeFileSync(join(data, 'annotations', 'val', `im${i}.png`), encodeLabelPng({ ...l, data: l.data.map((v) => v + 1) }));
    }
    const report = await evalSegmentation({ config: CONFIG, weights: WEIGHTS, engine: 'ort', backend: 'wasm', data, out: join(dir, 'eval.json') });
    expect(report.aAcc).toBe(100);
    const json = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { mIoU: number; perClass: Array<{ class: string; IoU: number | null }> };
    expect(json.mIoU).toBe(100);
    expect(json.perClass.map((c) => c.class)).toEqual(['sky', 'tree', 'road', 'car', 'person']);
    // Wrong size.
    writeFileSync(join(data, 'annotations', 'val', 'im1.png'), encodeLabelPng({ width: 7, height: 5, data: new Uint8Array(35) }));
    await expect(evalSegmentation({ config: CONFIG, weights: WEIGHTS, engine: 'ort', backend: 'wasm', data })).rejects.toThrow(/im1\.png: label map is 7x5 but its image .*im1\.png is 70x90/);
  });
});
