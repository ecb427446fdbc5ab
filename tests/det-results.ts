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

/** One detection in a comparable form: its image and class as one key, score, box, mask. */
interface Det {
  key: string;
  score: number;
  box?: readonly number[];
  mask?: CompressedRle;
}

/** Whether two detections are the same within `tol`. */
function close(a: Det, e: Det, tol: DetTolerance): boolean {
  if (a.key !== e.key || Math.abs(a.score - e.score) > tol.score) return false;
  if (e.box && !(a.box && a.box.every((v, k) => Math.abs(v - e.box![k]) <= tol.box))) return false;
  if (e.mask) {
    // Equal masks (empty ones from a sub-pixel box included) are the same mask.
    if (!a.mask) return false;
    if (a.mask.counts !== e.mask.counts && rleIou([decompressRle(a.mask)], [decompressRle(e.mask)], [false])[0][0] < tol.maskIou) return false;
  }
  return true;
}

/** Each of `actual` matched once to a close one of `expected` (order not compared: tied scores may swap). */
function expectMatched(actual: readonly Det[], expected: readonly Det[], tol: DetTolerance): void {
  expect(actual.length).toBe(expected.length);
  const used = new Set<number>();
  actual.forEach((a, i) => {
    const j = expected.findIndex((e, k) => !used.has(k) && close(a, e, tol));
    expect(j, `detection ${i} (${a.key}, score ${a.score}) has no match`).toBeGreaterThanOrEqual(0);
    used.add(j);
  });
}

/** The same COCO results (images, classes, scores, boxes and compressed-RLE masks within `tol`), each matched once. */
export function expectCocoClose(actual: readonly CocoResult[], expected: readonly CocoResult[], tol: DetTolerance = BATCH_TOLERANCE): void {
  const dets = (rs: readonly CocoResult[]): Det[] => rs.map((r) => ({
    key: `image ${r.image_id} category ${r.category_id}`, score: r.score, box: r.bbox, mask: r.segmentation as CompressedRle | undefined,
  }));
  expectMatched(dets(actual), dets(expected), tol);
}

/** A detected object as the library API and the server return it (mask optional). */
interface ObjectLike {
  label: string;
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
  mask?: { size: number[]; counts: string };
}

/** The same objects of one image (labels, scores, boxes and masks within `tol`), each matched once. */
export function expectObjectsClose(actual: readonly ObjectLike[], expected: readonly ObjectLike[], tol: DetTolerance = BATCH_TOLERANCE): void {
  const dets = (os: readonly ObjectLike[]): Det[] => os.map((o) => ({
    key: o.label,
    score: o.score,
    box: [o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax],
    mask: o.mask ? { size: [o.mask.size[0], o.mask.size[1]], counts: o.mask.counts } : undefined,
  }));
  expectMatched(dets(actual), dets(expected), tol);
}
