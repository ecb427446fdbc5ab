/**
 * Synthetic datasets: determinism (same seed → same bytes, image i independent of N), COCO JSON
 * consistent with the rendered masks (decoded through src/eval/coco), label maps consistent with
 * instance masks (read back through the project's own label-map reader), progress for large N,
 * bad input.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runSynth } from '../../src/cli/commands/synth.js';
import { UserError } from '../../src/core/errors.js';
import { generateScene, imageName, insidePolygon, SCENE_DEFAULTS, writeSynthDataset } from '../../src/data/synth/index.js';
import { loadCocoDataset } from '../../src/io/coco/dataset.js';
import { decodeRle, rleArea, rleToBbox } from '../../src/io/coco/rle.js';
import { segmentationToRle } from '../../src/io/coco/segm.js';
import { readRgb } from '../../src/io/image.js';
import { decodeLabelPng } from '../../src/io/label-png.js';

const root = mkdtempSync(join(tmpdir(), 'convnext-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KINDS = ['circle', 'square', 'triangle', 'star', 'hexagon', 'ellipse'] as const;
const BASE = { n: 6, seed: 7, size: 96, kinds: [...KINDS] };

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}

function sceneOpts(size: number) {
  return { ...SCENE_DEFAULTS, width: size, height: size, kinds: [...KINDS] };
}

describe('determinism', () => {
  it('same options give the same bytes; another seed differs; image i does not depend on N', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    const c = join(root, 'det-c');
    const d = join(root, 'det-d');
    await writeSynthDataset({ ...BASE, task: 'det', out: a });
    await writeSynthDataset({ ...BASE, task: 'det', out: b });
    await writeSynthDataset({ ...BASE, task: 'det', out: c, seed: 8 });
    await writeSynthDataset({ ...BASE, task: 'det', out: d, n: 3 });
    const fa = filesOf(a);
    const fb = filesOf(b);
    expect([...fa.keys()].sort()).toEqual(['annotations.json', ...Array.from({ length: 6 }, (_, i) => `images/${imageName(i)}`)]);
    for (const [k, v] of fa) expect(v.equals(fb.get(k)!), k).toBe(true);
    const fc = filesOf(c);
    expect(fa.get('images/000000.png')!.equals(fc.get('images/000000.png')!)).toBe(false);
    const fd = filesOf(d);
    for (let i = 0; i < 3; i++) expect(fd.get(`images/${imageName(i)}`)!.equals(fa.get(`images/${imageName(i)}`)!)).toBe(true);
  });
});

describe('detection dataset', () => {
  it('COCO JSON: valid, RLE masks decode to the rendered visible masks, boxes and areas from the masks', async () => {
    const out = join(root, 'det');
    const summary = await writeSynthDataset({ ...BASE, task: 'det', out });
    const gt = loadCocoDataset(join(out, 'annotations.json'));
    expect(gt.categories.map((c) => c.name)).toEqual([...KINDS]);
    expect(gt.images.length).toBe(6);
    expect(gt.annotations.length).toBe(summary.objects);
    expect(summary.objects).toBeGreaterThanOrEqual(6);
    let seen = 0;
    for (const [i, im] of gt.images.entries()) {
      const scene = generateScene(7, i, sceneOpts(96));
      const anns = gt.annotations.filter((a) => a.image_id === im.id);
      expect(anns.length).toBe(scene.instances.length);
      // The PNG holds exactly the rendered pixels.
      const img = await readRgb(join(out, 'images', im.file_name!));
      expect([img.width, img.height]).toEqual([96, 96]);
      expect(Buffer.from(img.data).equals(Buffer.from(scene.rgb))).toBe(true);
      const cover = new Uint8Array(96 * 96);
      for (const [j, a] of anns.entries()) {
        const inst = scene.instances[j];
        const rle = segmentationToRle(a.segmentation!, im.height, im.width);
        const mask = decodeRle(rle);
        expect(Buffer.from(mask).equals(Buffer.from(inst.mask)), `image ${i} object ${j}`).toBe(true);
        expect(a.category_id).toBe(KINDS.indexOf(inst.kind) + 1);
        expect(a.area).toBe(rleArea(rle));
        expect(a.area).toBe(inst.area);
        expect(a.bbox).toEqual(rleToBbox(rle));
        expect(a.iscrowd).toBe(0);
        // Visible masks do not overlap.
        for (let p = 0; p < mask.length; p++) {
          if (mask[p]) {
            expect(cover[p]).toBe(0);
            cover[p] = 1;
          }
        }
        seen++;
      }
    }
    expect(seen).toBe(summary.objects);
  });

  it('occlusion keeps at least the configured share of each shape visible', () => {
    for (let i = 0; i < 20; i++) {
      const scene = generateScene(11, i, { ...sceneOpts(128), minObjects: 5, maxObjects: 8 });
      for (const inst of scene.instances) expect(inst.area).toBeGreaterThanOrEqual(24 * SCENE_DEFAULTS.minVisible);
      // Painting order: a later instance's pixels are its own in the label map.
      const last = scene.instances.at(-1);
      if (last) for (let p = 0; p < last.mask.length; p++) if (last.mask[p]) expect(scene.labels[p]).toBe(last.category);
    }
  });
});

describe('segmentation dataset', () => {
  it('label maps equal the instance masks painted in order; classes.json; same scenes as det', async () => {
    const out = join(root, 'seg');
    await writeSynthDataset({ ...BASE, task: 'seg', out });
    const classes = JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8')) as { classes: string[]; palette: number[][]; ignore_index: number };
    expect(classes.classes).toEqual(['background', ...KINDS]);
    expect(classes.palette.length).toBe(7);
    expect(classes.ignore_index).toBe(255);
    const det = loadCocoDataset(join(root, 'det', 'annotations.json'));
    for (let i = 0; i < 6; i++) {
      const label = decodeLabelPng(readFileSync(join(out, 'annotations', imageName(i))), imageName(i));
      expect([label.width, label.height]).toEqual([96, 96]);
      // Rebuild the label map from the detection dataset's masks of the same scene.
      const expected = new Uint8Array(96 * 96);
      for (const a of det.annotations.filter((x) => x.image_id === i + 1)) {
        const mask = decodeRle(segmentationToRle(a.segmentation!, 96, 96));
        for (let p = 0; p < mask.length; p++) if (mask[p]) expected[p] = a.category_id;
      }
      expect(Buffer.from(label.data).equals(Buffer.from(expected)), `label map ${i}`).toBe(true);
      expect(Math.max(...label.data)).toBeLessThanOrEqual(KINDS.length);
      // The same images as the detection dataset.
      expect(readFileSync(join(out, 'images', imageName(i))).equals(readFileSync(join(root, 'det', 'images', imageName(i))))).toBe(true);
    }
  });
});

describe('shapes', () => {
  it('even-odd polygon test (unit square, worked by hand)', () => {
    const sq = [0, 0, 2, 0, 2, 2, 0, 2];
    expect(insidePolygon(sq, 1, 1)).toBe(true);
    expect(insidePolygon(sq, 2.5, 1)).toBe(false);
    expect(insidePolygon(sq, 1, -0.1)).toBe(false);
  });
});

describe('command', () => {
  function sink(): { stream: NodeJS.WriteStream; text: () => string } {
    let buf = '';
    const w = new Writable({ write(chunk: Buffer, _enc, cb) { buf += chunk.toString(); cb(); } });
    // A non-TTY stream: progress falls back to plain lines (Writable stands in for a WriteStream).
    return { stream: w as unknown as NodeJS.WriteStream, text: () => buf };
  }

  it('shows progress for large N and a summary line', async () => {
    const s = sink();
    const summary = await runSynth({ task: 'seg', out: join(root, 'cli'), n: 50, size: 32, seed: 1, maxObjects: 2, minObjects: 1 }, s.stream);
    expect(summary.images).toBe(50);
    expect(s.text()).toMatch(/synth seg: 50\/50 images/);
    expect(s.text()).toMatch(/wrote 50 images with \d+ shapes \(circle, square, triangle, star\)/);
  });

  it('refuses a non-empty folder without --overwrite, unknown kinds and bad sizes', async () => {
    const s = sink();
    const out = join(root, 'again');
    await runSynth({ task: 'det', out, n: 2, size: 32 }, s.stream);
    await expect(runSynth({ task: 'det', out, n: 2, size: 32 }, s.stream)).rejects.toThrow(/not empty.*--overwrite/);
    await expect(runSynth({ task: 'det', out, n: 1, size: 32, overwrite: true }, s.stream)).resolves.toBeDefined();
    // The replaced dataset has no images left over from the larger one.
    expect(readdirSync(join(out, 'images'))).toEqual(['000000.png']);
    await expect(runSynth({ task: 'det', out: join(root, 'k'), n: 2, kinds: 'circle,blob' }, s.stream)).rejects.toThrow(UserError);
    await expect(runSynth({ task: 'det', out: join(root, 'k'), n: 2, kinds: 'circle,blob' }, s.stream)).rejects.toThrow(/unknown shape 'blob'/);
    await expect(runSynth({ task: 'det', out: join(root, 'k'), n: 2, size: 8 }, s.stream)).rejects.toThrow(/--size/);
    await expect(runSynth({ task: 'det', out: join(root, 'k'), n: 2, minObjects: 3, maxObjects: 2 }, s.stream)).rejects.toThrow(/--min-objects/);
    await expect(runSynth({ task: 'det', out: join(root, 'k'), n: 2, minSize: 0.5, maxSize: 0.3 }, s.stream)).rejects.toThrow(/--min-size \/ --max-size/);
  });

  it('draws shapes within --min-size / --max-size and records them', async () => {
    const s = sink();
    const out = join(root, 'sized');
    await runSynth({ task: 'det', out, n: 6, size: 64, minSize: 0.4, maxSize: 0.5 }, s.stream);
    const coco = JSON.parse(readFileSync(join(out, 'annotations.json'), 'utf8')) as { info: Record<string, unknown>; annotations: Array<{ bbox: number[] }> };
    expect(coco.info.min_size).toBe(0.4);
    expect(coco.info.max_size).toBe(0.5);
    expect(coco.annotations.length).toBeGreaterThan(0);
    // Boxes of visible parts: never wider than the largest diameter (0.5 · 64 plus a pixel of rasterisation).
    for (const a of coco.annotations) expect(Math.max(a.bbox[2], a.bbox[3])).toBeLessThanOrEqual(0.5 * 64 + 1);
  });
});
