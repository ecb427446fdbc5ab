import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import {
  formatJsonPath, loadCocoDataset, loadCocoResults, parseCocoDataset, parseCocoResults, prepareDetections,
} from '../../../src/io/coco/dataset.js';
import { encodeMask, compressRle } from '../../../src/io/coco/rle.js';

function base(): { images: unknown[]; annotations: Record<string, unknown>[]; categories: unknown[] } {
  return {
    images: [{ id: 1, width: 4, height: 3, file_name: 'a.jpg' }],
    categories: [{ id: 5, name: 'cat' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 5, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] },
      { id: 2, image_id: 1, category_id: 5, bbox: [1, 1, 2, 1], area: 2, iscrowd: 1, segmentation: { size: [3, 4], counts: [4, 1, 2, 1, 4] } },
      { id: 3, image_id: 1, category_id: 5, bbox: [0, 0, 1, 1], area: 1, segmentation: { size: [3, 4], counts: '01;' } },
      { id: 4, image_id: 1, category_id: 5, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 },
    ],
  };
}

function err(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('COCO dataset loader', () => {
  it('accepts polygons, uncompressed and compressed RLE; iscrowd defaults to 0', () => {
    const ds = parseCocoDataset(base(), 'ann.json');
    expect(ds.annotations).toHaveLength(4);
    expect(ds.annotations[2].iscrowd).toBe(0);
    expect(ds.annotations[1].iscrowd).toBe(1);
    expect(ds.file).toBe('ann.json');
  });

  it('names the file and JSON path of a bad or missing field', () => {
    const bad = base();
    bad.annotations[3].bbox = [1, 2, 3];
    expect(err(() => parseCocoDataset(bad, 'ann.json'))).toBe('ann.json: annotations[3].bbox: expected array of 4 numbers');
    const missing = base();
    delete missing.annotations[0].area;
    expect(err(() => parseCocoDataset(missing, 'ann.json'))).toBe('ann.json: annotations[0].area: missing (expected a number)');
    const img = base();
    img.images = [{ id: 1, width: 0, height: 3 }];
    expect(err(() => parseCocoDataset(img, 'ann.json'))).toBe('ann.json: images[0].width: expected a positive integer');
    expect(err(() => parseCocoDataset({ images: [] }, 'ann.json'))).toMatch(/^ann\.json: categories: /);
    expect(err(() => parseCocoDataset([], 'ann.json'))).toBe(
      'ann.json: expected an object with images, annotations and categories',
    );
  });

  it('checks segmentations: polygon length, RLE size and run-length sum', () => {
    const short = base();
    short.annotations[0].segmentation = [[0, 0, 1, 1, 2, 2], [1, 1]];
    expect(err(() => parseCocoDataset(short, 'a.json'))).toBe(
      'a.json: annotations[0].segmentation[1]: polygon has 2 numbers, expected at least 4',
    );
    const sum = base();
    sum.annotations[1].segmentation = { size: [3, 4], counts: [4, 1] };
    expect(err(() => parseCocoDataset(sum, 'a.json'))).toBe(
      'a.json: annotations[1].segmentation.counts: run lengths sum to 5, expected 3x4',
    );
    const kind = base();
    kind.annotations[1].segmentation = 'abc';
    expect(err(() => parseCocoDataset(kind, 'a.json'))).toMatch(/annotations\[1\]\.segmentation: expected polygons/);
  });

  it('checks cross references and duplicate ids', () => {
    const img = base();
    img.annotations[2].image_id = 9;
    expect(err(() => parseCocoDataset(img, 'a.json'))).toBe('a.json: annotations[2].image_id: no image with id 9');
    const cat = base();
    cat.annotations[0].category_id = 1;
    expect(err(() => parseCocoDataset(cat, 'a.json'))).toBe('a.json: annotations[0].category_id: no category with id 1');
    const dup = base();
    dup.annotations[1].id = 1;
    expect(err(() => parseCocoDataset(dup, 'a.json'))).toBe('a.json: annotations[1].id: duplicate id 1');
  });

  it('reports unreadable and malformed files with their name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coco-'));
    writeFileSync(join(dir, 'broken.json'), '{"images": [');
    expect(err(() => loadCocoDataset(join(dir, 'broken.json')))).toMatch(/broken\.json: invalid JSON/);
    expect(err(() => loadCocoDataset(join(dir, 'none.json')))).toMatch(/none\.json: file not found$/);
    writeFileSync(join(dir, 'ann.json'), JSON.stringify(base()));
    expect(loadCocoDataset(join(dir, 'ann.json')).file).toBe('ann.json');
    writeFileSync(join(dir, 'res.json'), JSON.stringify([{ image_id: 1, category_id: 5, bbox: [0, 0, 1, 1] }]));
    expect(err(() => loadCocoResults(join(dir, 'res.json')))).toBe('res.json: [0].score: missing (expected a number)');
  });

  it('formats JSON paths', () => {
    expect(formatJsonPath(['annotations', 3, 'bbox'])).toBe('annotations[3].bbox');
    expect(formatJsonPath([2, 'segmentation', 'counts'])).toBe('[2].segmentation.counts');
  });
});

describe('COCO results (loadRes completion)', () => {
  const gt = parseCocoDataset(base(), 'ann.json');

  it('box mode: ids 1..N, area = w·h, box polygon as segmentation', () => {
    const dets = prepareDetections(parseCocoResults([
      { image_id: 1, category_id: 5, bbox: [1, 1, 2, 1.5], score: 0.5 },
      { image_id: 1, category_id: 5, bbox: [0, 0, 1, 1], score: 0.7, segmentation: { size: [3, 4], counts: '01;' } },
    ]), gt);
    expect(dets.map((d) => d.id)).toEqual([1, 2]);
    expect(dets[0].area).toBe(3);
    expect(dets[0].segmentation).toEqual([[1, 1, 1, 2.5, 3, 2.5, 3, 1]]);
    // a given mask is kept, but the area is still the box's (pycocotools' loadRes picks the branch
    // from the first result)
    expect(dets[1].area).toBe(1);
    expect(dets[1].segmentation).toEqual({ size: [3, 4], counts: '01;' });
  });

  it('mask mode: area and box from the mask', () => {
    // 3×4 mask with a 2×2 block at x 1..2, y 0..1
    const m = [0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
    const rle = compressRle(encodeMask(m, 3, 4));
    const dets = prepareDetections(parseCocoResults([{ image_id: 1, category_id: 5, score: 0.9, segmentation: rle }]), gt);
    expect(dets[0].area).toBe(4);
    expect(dets[0].bbox).toEqual([1, 0, 2, 2]);
  });

  it('rejects results on images outside the ground truth and results without bbox or mask', () => {
    expect(err(() => prepareDetections([{ image_id: 3, category_id: 5, score: 1, bbox: [0, 0, 1, 1] }], gt, 'res.json'))).toBe(
      'res.json: [0].image_id: image 3 is not in ann.json',
    );
    expect(err(() => prepareDetections([{ image_id: 1, category_id: 5, score: 1 }], gt, 'res.json'))).toBe(
      'res.json: [0]: needs a bbox or a segmentation',
    );
    expect(err(() => prepareDetections([
      { image_id: 1, category_id: 5, score: 1, bbox: [0, 0, 1, 1] },
      { image_id: 1, category_id: 5, score: 1, segmentation: [[0, 0, 1, 0, 1, 1]] },
    ], gt, 'res.json'))).toBe('res.json: [1].bbox: missing (the first result has a bbox)');
    expect(err(() => parseCocoResults({ not: 'a list' }, 'res.json'))).toMatch(/^res\.json: expected an array of results/);
  });

  it('an empty results list evaluates to no detections', () => {
    expect(prepareDetections(parseCocoResults([]), gt)).toEqual([]);
  });
});
