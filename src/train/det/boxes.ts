/**
 * Host-side box arithmetic for training targets, in float32 as the Python tools compute it:
 * pairwise IoU (mmdetection `bbox_overlaps`, mode 'iou', union clamped to ε = 1e-6) and row
 * selection. Boxes are flat [x1, y1, x2, y2, …] arrays. The delta coders are in
 * src/core/det/coder-host.ts.
 */

const f = Math.fround;

/** IoU of every box of `a` [G·4] with every box of `b` [N·4]: row-major [G, N]. */
export function iouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const g = a.length / 4;
  const n = b.length / 4;
  const out = new Float32Array(g * n);
  const areaB = new Float32Array(n);
  for (let j = 0; j < n; j++) areaB[j] = f(f(b[4 * j + 2] - b[4 * j]) * f(b[4 * j + 3] - b[4 * j + 1]));
  for (let i = 0; i < g; i++) {
    const ax1 = a[4 * i];
    const ay1 = a[4 * i + 1];
    const ax2 = a[4 * i + 2];
    const ay2 = a[4 * i + 3];
    const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
    for (let j = 0; j < n; j++) {
      const w = Math.max(f(Math.min(ax2, b[4 * j + 2]) - Math.max(ax1, b[4 * j])), 0);
      const h = Math.max(f(Math.min(ay2, b[4 * j + 3]) - Math.max(ay1, b[4 * j + 1])), 0);
      const overlap = f(w * h);
      const union = Math.max(f(f(areaA + areaB[j]) - overlap), 1e-6);
      out[i * n + j] = f(overlap / f(union));
    }
  }
  return out;
}

/** Rows `idx` of a flat table with `k` columns. */
export function takeRows(t: ArrayLike<number>, idx: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(idx.length * k);
  for (let i = 0; i < idx.length; i++) for (let c = 0; c < k; c++) out[i * k + c] = t[idx[i] * k + c];
  return out;
}
