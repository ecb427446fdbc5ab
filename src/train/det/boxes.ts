/**
 * Host-side box arithmetic for training targets, in float32 as the Python tools compute it:
 * pairwise IoU (mmdetection `bbox_overlaps`, mode 'iou', union clamped to ε = 1e-6) and the
 * delta (x, y, w, h) encoding (mmdetection `bbox2delta` with means / stds, torchvision
 * `encode_boxes` with weights). Boxes are flat [x1, y1, x2, y2, …] arrays.
 */
import type { BoxCoderOptions } from '../../heads/det/coder.js';

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

/** Encodes the targets `gt` [R·4] relative to `boxes` [R·4] as deltas [R·4] with `coder`. */
export function encodeBoxes(boxes: ArrayLike<number>, gt: ArrayLike<number>, coder: BoxCoderOptions): Float32Array {
  const r = boxes.length / 4;
  const out = new Float32Array(4 * r);
  for (let i = 0; i < r; i++) {
    const [px1, py1, px2, py2] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
    const [gx1, gy1, gx2, gy2] = [gt[4 * i], gt[4 * i + 1], gt[4 * i + 2], gt[4 * i + 3]];
    if (coder.type === 'mmdet') {
      const px = f(f(px1 + px2) * 0.5);
      const py = f(f(py1 + py2) * 0.5);
      const pw = f(px2 - px1);
      const ph = f(py2 - py1);
      const gx = f(f(gx1 + gx2) * 0.5);
      const gy = f(f(gy1 + gy2) * 0.5);
      const gw = f(gx2 - gx1);
      const gh = f(gy2 - gy1);
      const d = [f(f(gx - px) / pw), f(f(gy - py) / ph), f(Math.log(f(gw / pw))), f(Math.log(f(gh / ph)))];
      for (let k = 0; k < 4; k++) out[4 * i + k] = f(f(d[k] - coder.means[k]) / coder.stds[k]);
    } else {
      const [wx, wy, ww, wh] = coder.weights;
      const ew = f(px2 - px1);
      const eh = f(py2 - py1);
      const ex = f(px1 + f(0.5 * ew));
      const ey = f(py1 + f(0.5 * eh));
      const gw = f(gx2 - gx1);
      const gh = f(gy2 - gy1);
      const gx = f(gx1 + f(0.5 * gw));
      const gy = f(gy1 + f(0.5 * gh));
      out[4 * i] = f(f(wx * f(gx - ex)) / ew);
      out[4 * i + 1] = f(f(wy * f(gy - ey)) / eh);
      out[4 * i + 2] = f(ww * f(Math.log(f(gw / ew))));
      out[4 * i + 3] = f(wh * f(Math.log(f(gh / eh))));
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
