/**
 * Training augmentations and batching on hand-worked cases: nearest resize of masks and labels,
 * keep-ratio resize of boxes, flip, random crop with cat_max_ratio, photometric distortion,
 * padding to /32, and the sample stream / prefetch order.
 */
import { describe, expect, it } from 'vitest';
import {
  drawScale, dropTinyObjects, flipDet, flipMap, randomCropSeg, resizeDet, resizeNearest, type DetSample,
} from '../../src/data/augment.js';
import { collateDet, collateSeg, paddedSize } from '../../src/data/batch.js';
import { Prefetcher, SampleStream } from '../../src/data/loader.js';
import { photometricDistort } from '../../src/data/photometric.js';
import type { RgbImage } from '../../src/image/rgb.js';
import { TrainRng } from '../../src/data/rng.js';

function image(w: number, h: number, f: (x: number, y: number, c: number) => number = () => 100): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, data };
}

describe('resizeNearest / flipMap', () => {
  it('2x upsampling repeats pixels; 2x downsampling takes the top-left of each 2x2 block', () => {
    expect(Array.from(resizeNearest(Uint8Array.from([1, 2, 3, 4]), 2, 2, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(resizeNearest(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), 4, 4, 2, 2))).toEqual([1, 3, 9, 11]);
    expect(Array.from(flipMap(Uint8Array.from([1, 2, 3, 4, 5, 6]), 3, 2))).toEqual([3, 2, 1, 6, 5, 4]);
  });
});

describe('detection sample transforms', () => {
  const sample = (): DetSample => {
    const mask = new Uint8Array(40 * 20);
    for (let y = 2; y < 8; y++) for (let x = 4; x < 10; x++) mask[y * 40 + x] = 1;
    return { image: image(40, 20), boxes: Float32Array.from([4, 2, 10, 8]), labels: Int32Array.from([1]), masks: [mask] };
  };

  it('keep-ratio resize into (long, short) scales boxes by the actual factors and masks by nearest', async () => {
    // 40x20 into (80, 80): factor min(80/40, 80/20) = 2 → 80x40; box ×2; mask pixels ×2.
    const r = await resizeDet(sample(), [80, 80]);
    expect([r.image.width, r.image.height]).toEqual([80, 40]);
    expect(Array.from(r.boxes)).toEqual([8, 4, 20, 16]);
    expect(r.masks[0].reduce((a, b) => a + b, 0)).toBe(36 * 4);
  });

  it('flip mirrors boxes as x1\' = w − x2, x2\' = w − x1 and the mask with them', () => {
    const f = flipDet(sample());
    expect(Array.from(f.boxes)).toEqual([30, 2, 36, 8]);
    expect(f.masks[0][2 * 40 + 35]).toBe(1);
    expect(f.masks[0][2 * 40 + 4]).toBe(0);
  });

  it('drops objects narrower than a pixel', () => {
    const s = sample();
    const out = dropTinyObjects({ ...s, boxes: Float32Array.from([4, 2, 4.5, 8]) });
    expect(out.labels.length).toBe(0);
    expect(out.masks.length).toBe(0);
  });
});

describe('drawScale', () => {
  it('one of the scales, times a ratio from the range', () => {
    const rng = new TrainRng(3);
    for (let i = 0; i < 20; i++) {
      const s = drawScale({ scales: [[100, 50], [200, 100]] }, rng);
      expect([[100, 50], [200, 100]]).toContainEqual(s);
      const t = drawScale({ scales: [[100, 50]], ratioRange: [0.5, 2] }, rng);
      expect(t[0]).toBeGreaterThanOrEqual(50);
      expect(t[0]).toBeLessThanOrEqual(200);
    }
  });
});

describe('randomCropSeg', () => {
  it('crops image and labels at the same window, never larger than the image', () => {
    const labels = Uint8Array.from({ length: 30 * 20 }, (_, i) => (i % 30) % 5);
    const img = image(30, 20, (x) => x);
    const c = randomCropSeg({ image: img, labels }, [10, 12], new TrainRng(1));
    expect([c.image.width, c.image.height]).toEqual([12, 10]);
    // The label of each pixel is x mod 5 and the image's red channel is x: they must agree after the crop.
    for (let i = 0; i < 120; i++) expect(c.labels[i]).toBe(c.image.data[3 * i] % 5);
    const big = randomCropSeg({ image: img, labels }, [64, 64], new TrainRng(1));
    expect([big.image.width, big.image.height]).toEqual([30, 20]);
  });

  it('cat_max_ratio retries windows dominated by one class', () => {
    // Left 24 columns class 0, right 6 columns class 1. A 10x10 window starts at x0 ∈ 0..20 and
    // has every class below 75 % only when x0 ≥ 17 (≥ 3 columns of class 1): 4 of 21 offsets.
    // Without the ratio that happens ≈ 19 % of the time; with it, up to ten draws are tried, so a
    // window fails only when all ten miss (≈ (17/21)^10 ≈ 12 %).
    const labels = Uint8Array.from({ length: 30 * 10 }, (_, i) => ((i % 30) >= 24 ? 1 : 0));
    const balanced = (ratio: number) => {
      let ok = 0;
      for (let seed = 0; seed < 200; seed++) {
        const c = randomCropSeg({ image: image(30, 10), labels }, [10, 10], new TrainRng(seed), ratio);
        const ones = c.labels.reduce((a, b) => a + b, 0);
        if (ones >= 30 && ones <= 70) ok++;
      }
      return ok / 200;
    };
    expect(balanced(1)).toBeLessThan(0.3);
    expect(balanced(0.75)).toBeGreaterThan(0.75);
  });
});

describe('photometricDistort', () => {
  it('is deterministic for a generator state, keeps the size, stays within 0..255 and changes pixels', () => {
    const img = image(8, 8, (x, y, c) => (x * 30 + y * 7 + c * 50) % 256);
    const a = photometricDistort(img, new TrainRng(9));
    const b = photometricDistort(img, new TrainRng(9));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect([a.width, a.height]).toEqual([8, 8]);
    let changed = 0;
    for (let s = 0; s < 5; s++) {
      const d = photometricDistort(img, new TrainRng(s));
      changed += d.data.some((v, i) => v !== img.data[i]) ? 1 : 0;
    }
    expect(changed).toBeGreaterThan(0);
  });
});

describe('batching', () => {
  it('pads to the largest size rounded up to /32, normalised, zeros in the padding', () => {
    expect(paddedSize([[50, 70], [65, 20]], 32)).toEqual([96, 96]);
    const s1: DetSample = { image: image(40, 30, () => 200), boxes: new Float32Array(0), labels: new Int32Array(0), masks: [] };
    const s2: DetSample = { image: image(20, 33, () => 10), boxes: Float32Array.from([1, 1, 5, 5]), labels: Int32Array.from([2]), masks: [new Uint8Array(20 * 33)] };
    const b = collateDet([s1, s2], [100, 100, 100], [50, 50, 50], 32);
    expect(b.images.shape).toEqual([2, 3, 64, 64]);
    expect(b.sizes).toEqual([[30, 40], [33, 20]]);
    const at = (n: number, c: number, y: number, x: number) => b.images.data[((n * 3 + c) * 64 + y) * 64 + x];
    expect(at(0, 0, 0, 0)).toBe(2); // (200 − 100) / 50
    expect(at(0, 2, 29, 39)).toBe(2);
    expect(at(0, 0, 30, 0)).toBe(0); // padding
    expect(at(1, 1, 32, 19)).toBeCloseTo(-1.8, 6); // (10 − 100) / 50
    expect(b.gts[1]).toMatchObject({ maskHeight: 33, maskWidth: 20 });
  });

  it('segmentation labels are padded with the ignore index up to the crop size', () => {
    const b = collateSeg([{ image: image(20, 10), labels: new Uint8Array(200).fill(3) }], [0, 0, 0], [1, 1, 1], 32, [48, 40], 255);
    expect(b.images.shape).toEqual([1, 3, 64, 64]);
    expect(b.labels.shape).toEqual([1, 64, 64]);
    expect(b.labels.data[0]).toBe(3);
    expect(b.labels.data[9 * 64 + 19]).toBe(3);
    expect(b.labels.data[10 * 64]).toBe(255);
    expect(b.labels.data[20]).toBe(255);
  });
});

describe('SampleStream / Prefetcher', () => {
  it('each epoch visits every sample once, in an order fixed by the seed', () => {
    const s = new SampleStream(7, 42);
    const e0 = Array.from({ length: 7 }, (_, p) => s.index(p));
    const e1 = Array.from({ length: 7 }, (_, p) => s.index(7 + p));
    expect([...e0].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([...e1].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(e0).not.toEqual(e1);
    const again = new SampleStream(7, 42);
    expect(Array.from({ length: 14 }, (_, p) => again.index(13 - p)).reverse()).toEqual([...e0, ...e1]);
    expect(s.rng(3).next()).toBe(new SampleStream(7, 42).rng(3).next());
  });

  it('returns batches in order from the start step, a failure when its batch is asked for', async () => {
    const made: number[] = [];
    const p = new Prefetcher(async (k) => {
      made.push(k);
      await new Promise((r) => setTimeout(r, (5 - k) * 2));
      if (k === 7) throw new Error('bad batch 7');
      return k * 10;
    }, 5, 2);
    expect(await p.next()).toEqual({ step: 5, batch: 50 });
    expect(await p.next()).toEqual({ step: 6, batch: 60 });
    await expect(p.next()).rejects.toThrow('bad batch 7');
    expect(made.slice(0, 4)).toEqual([5, 6, 7, 8]);
  });
});
