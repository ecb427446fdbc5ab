/**
 * Detection results compared with a tolerance: two runs of one model through differently
 * scheduled graphs (a batched graph, another batch size) agree to float rounding, not bit for bit.
 */
import { expect } from 'vitest';
import { decompressRle, rleIou } from '../src/io/coco/rle.js';
import type { CocoResult, CompressedRle } from '../src/io/coco/types.js';

/** Tolerances of {@link expectCocoClose}. */
export interface DetTolerance {
  /** Largest box coordinate difference (pixels). */
  box: number;
  score: number;
  /** Smallest mask IoU. */
  maskIou: number;
}

/** The tolerance of a batched graph against the one-image graph (float rounding of batched kernels). */
export const BATCH_TOLERANCE: DetTolerance = { box: 1e-2, score: 1e-4, maskIou: 0.99 };

/** The same detections in the same order (same images and classes), boxes, scores and masks within `tol`. */
export function expectCocoClose(actual: readonly CocoResult[], expected: readonly CocoResult[], tol: DetTolerance = BATCH_TOLERANCE): void {
  expect(actual.map((r) => [r.image_id, r.category_id])).toEqual(expected.map((r) => [r.image_id, r.category_id]));
  actual.forEach((a, i) => {
    const e = expected[i];
    const what = `result ${i} (image ${e.image_id})`;
    expect(Math.abs(a.score - e.score), what).toBeLessThanOrEqual(tol.score);
    if (e.bbox) a.bbox!.forEach((v, k) => expect(Math.abs(v - e.bbox![k]), what).toBeLessThanOrEqual(tol.box));
    if (e.segmentation) {
      // What detect writes: compressed RLE.
      const [am, em] = [a.segmentation as CompressedRle, e.segmentation as CompressedRle];
      const iou = rleIou([decompressRle(am)], [decompressRle(em)], [false])[0][0];
      // Two equal masks (empty ones from a sub-pixel box included) are the same mask.
      if (am.counts !== em.counts) expect(iou, what).toBeGreaterThanOrEqual(tol.maskIou);
    }
  });
}
