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

/** Whether two results are the same detection within `tol` (image, class, score, box and mask). */
function close(a: CocoResult, e: CocoResult, tol: DetTolerance): boolean {
  if (a.image_id !== e.image_id || a.category_id !== e.category_id || Math.abs(a.score - e.score) > tol.score) return false;
  if (e.bbox && !a.bbox!.every((v, k) => Math.abs(v - e.bbox![k]) <= tol.box)) return false;
  if (e.segmentation) {
    // What detect writes: compressed RLE. Equal masks (empty ones from a sub-pixel box included) are the same mask.
    const [am, em] = [a.segmentation as CompressedRle, e.segmentation as CompressedRle];
    if (am.counts !== em.counts && rleIou([decompressRle(am)], [decompressRle(em)], [false])[0][0] < tol.maskIou) return false;
  }
  return true;
}

/**
 * The same detections (images, classes, scores, boxes and masks within `tol`), each matched once.
 * Order is not compared: detections whose scores tie to float rounding may swap places.
 */
export function expectCocoClose(actual: readonly CocoResult[], expected: readonly CocoResult[], tol: DetTolerance = BATCH_TOLERANCE): void {
  expect(actual.length).toBe(expected.length);
  const used = new Set<number>();
  actual.forEach((a, i) => {
    const j = expected.findIndex((e, k) => !used.has(k) && close(a, e, tol));
    expect(j, `result ${i} (image ${a.image_id}, category ${a.category_id}, score ${a.score}) has no match`).toBeGreaterThanOrEqual(0);
    used.add(j);
  });
}
