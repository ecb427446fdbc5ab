/**
 * Training datasets: COCO JSON and segmentation folders as `convnext synth` writes them, and the
 * one-line errors for bad input (an annotation whose image file is missing, an empty dataset, a
 * category outside the config's classes, a label outside the classes); and a sample read through
 * the whole pipeline.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { loadDetDataset } from '../../src/data/coco-train.js';
import { detPipelineSchema, loadDetSample, loadSegSample, segPipelineSchema } from '../../src/data/pipeline.js';
import { loadSegDataset, readTrainLabels } from '../../src/data/seg-folder.js';
import { writeSynthDataset } from '../../src/data/synth/write.js';
import { encodeLabelPng } from '../../src/io/label-png.js';
import { TrainRng } from '../../src/data/rng.js';

const SHAPES = ['circle', 'square', 'triangle', 'star'];
const tmp = mkdtempSync(join(tmpdir(), 'convnext-data-'));
const det = join(tmp, 'det');
const seg = join(tmp, 'seg');

beforeAll(async () => {
  await writeSynthDataset({ task: 'det', out: det, n: 3, size: 64, seed: 2 });
  await writeSynthDataset({ task: 'seg', out: seg, n: 3, size: 64, seed: 2 });
});

function withJson(edit: (j: Record<string, unknown[]>) => void): string {
  const j = JSON.parse(readFileSync(join(det, 'annotations.json'), 'utf8')) as Record<string, unknown[]>;
  edit(j);
  const file = join(tmp, `ann-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(j));
  return file;
}

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a UserError');
}

describe('COCO training datasets', () => {
  it('loads the synthetic set with classes mapped by name and masks', async () => {
    const ds = loadDetDataset(join(det, 'annotations.json'), join(det, 'images'), SHAPES);
    expect(ds.records).toHaveLength(3);
    expect(ds.categoryIds).toEqual([1, 2, 3, 4]);
    const s = await loadDetSample(ds.records[0], detPipelineSchema.parse({ scales: [[96, 96]], flip_prob: 0 }), new TrainRng(0));
    expect([s.image.width, s.image.height]).toEqual([96, 96]);
    expect(s.labels.length).toBe(ds.records[0].objects.length);
    // Each mask lies inside its box.
    s.masks.forEach((m, k) => {
      const [x1, y1, x2, y2] = s.boxes.subarray(4 * k, 4 * k + 4);
      for (let i = 0; i < m.length; i++) {
        if (!m[i]) continue;
        const x = i % 96;
        const y = Math.floor(i / 96);
        expect(x >= Math.floor(x1) && x < Math.ceil(x2) && y >= Math.floor(y1) && y < Math.ceil(y2)).toBe(true);
      }
    });
  });

  it('an annotation whose image file is missing', () => {
    const file = withJson((j) => ((j.images[1] as { file_name: string }).file_name = 'nope.png'));
    expect(userError(() => loadDetDataset(file, join(det, 'images'), SHAPES))).toMatch(/images\[1\] \(id 2\) refers to .*nope\.png, which does not exist/);
  });

  it('an empty dataset', () => {
    const file = withJson((j) => {
      j.images = [];
      j.annotations = [];
    });
    expect(userError(() => loadDetDataset(file, join(det, 'images'), SHAPES))).toMatch(/the dataset has no images/);
  });

  it('a category outside the config\'s classes', () => {
    // Class names that are not category names map by position, which needs as many categories as classes.
    expect(userError(() => loadDetDataset(join(det, 'annotations.json'), join(det, 'images'), ['a', 'b', 'c'])))
      .toMatch(/4 categories \(circle, square, triangle, star\) do not match the config's 3 classes \(a, b, c\)/);
    // Three classes named like three categories: the stars' annotations fall outside them.
    expect(userError(() => loadDetDataset(join(det, 'annotations.json'), join(det, 'images'), SHAPES.slice(0, 3))))
      .toMatch(/has category_id 4 \('star'\), which is not one of the config's classes \(circle, square, triangle\)/);
    // An extra category used by an annotation while every class maps by name.
    const file = withJson((j) => {
      j.categories.push({ id: 9, name: 'hexagon' });
      (j.annotations[0] as { category_id: number }).category_id = 9;
    });
    expect(userError(() => loadDetDataset(file, join(det, 'images'), SHAPES))).toMatch(/annotations\[0\] \(id 1\) has category_id 9 \('hexagon'\), which is not one of the config's classes/);
  });
});

describe('segmentation training folders', () => {
  it('reads samples through the pipeline (crop, labels in range)', async () => {
    const ds = loadSegDataset(seg);
    expect(ds.samples).toHaveLength(3);
    const s = await loadSegSample(ds.samples[0], segPipelineSchema.parse({ scale: [64, 64], ratio_range: [1, 1], crop_size: [48, 40] }),
      { numClasses: 5, ignoreIndex: 255, reduceZeroLabel: false }, new TrainRng(1));
    expect([s.image.width, s.image.height]).toEqual([40, 48]);
    expect(s.labels.every((v) => v < 5)).toBe(true);
  });

  it('an empty folder, and a label outside the classes', () => {
    const empty = join(tmp, 'empty');
    rmSync(empty, { recursive: true, force: true });
    expect(() => loadSegDataset(empty)).toThrow(UserError);
    const bad = join(tmp, 'bad-labels.png');
    writeFileSync(bad, encodeLabelPng({ width: 2, height: 1, data: Uint8Array.from([1, 7]) }));
    expect(userError(() => readTrainLabels(bad, 5, 255, false))).toMatch(/label 7 at pixel \(1, 0\) is outside the config's 5 classes/);
    // reduce_zero_label: 0 → 255 (ignored), v → v − 1.
    const ok = join(tmp, 'ok-labels.png');
    writeFileSync(ok, encodeLabelPng({ width: 3, height: 1, data: Uint8Array.from([0, 1, 5]) }));
    expect(Array.from(readTrainLabels(ok, 5, 255, true).data)).toEqual([255, 0, 4]);
  });
});
