/**
 * Delta (x, y, w, h) box coders, decoding only (test time), in each library's float operation
 * order: mmdetection's `DeltaXYWHBBoxCoder.delta2bbox` (deltas × stds + means, dw/dh clamped to
 * ±|log(16/1000)|) and torchvision's `BoxCoder.decode_single` (deltas ÷ weights, dw/dh clamped
 * above at log(1000/16)). Both clip to the image afterwards when an image size is given.
 */
import type { DetOps } from '../det-ops.js';

export type BoxCoderOptions =
  | {
    type: 'mmdet';
    means: readonly [number, number, number, number];
    stds: readonly [number, number, number, number];
    /** |dw|, |dh| are clamped to this (mmdetection: |log(wh_ratio_clip)| = |log(16/1000)|). */
    clip: number;
  }
  | {
    type: 'torchvision';
    weights: readonly [number, number, number, number];
    /** dw, dh are clamped above at this (torchvision: log(1000/16)). */
    clip: number;
  };

/** mmdetection's default clip: |log(16 / 1000)|. */
export const MMDET_WH_CLIP = Math.abs(Math.log(16 / 1000));
/** torchvision's default clip: log(1000 / 16). */
export const TORCHVISION_WH_CLIP = Math.log(1000 / 16);

/**
 * Decodes deltas [N, 4] relative to boxes [N, 4] into boxes [N, 4] (x1, y1, x2, y2), clipped to
 * `imageSize` ([2]: height, width) when given.
 */
export function decodeBoxes<T>(ops: DetOps<T>, deltas: T, boxes: T, coder: BoxCoderOptions, imageSize: T | null): T {
  const col = (x: T, i: number) => ops.column(x, i);
  const [x1, y1, x2, y2] = [0, 1, 2, 3].map((i) => col(boxes, i));
  const d = [0, 1, 2, 3].map((i) => col(deltas, i));
  let out: T[];
  if (coder.type === 'mmdet') {
    const [dx, dy, dw0, dh0] = d.map((v, i) => {
      const scaled = coder.stds[i] === 1 ? v : ops.mulScalar(v, coder.stds[i]);
      return coder.means[i] === 0 ? scaled : ops.addScalar(scaled, coder.means[i]);
    });
    const px = ops.mulScalar(ops.add(x1, x2), 0.5);
    const py = ops.mulScalar(ops.add(y1, y2), 0.5);
    const pw = ops.sub(x2, x1);
    const ph = ops.sub(y2, y1);
    const dw = ops.clamp(dw0, -coder.clip, coder.clip);
    const dh = ops.clamp(dh0, -coder.clip, coder.clip);
    const gw = ops.mul(pw, ops.exp(dw));
    const gh = ops.mul(ph, ops.exp(dh));
    const gx = ops.add(px, ops.mul(pw, dx));
    const gy = ops.add(py, ops.mul(ph, dy));
    const hw = ops.mulScalar(gw, 0.5);
    const hh = ops.mulScalar(gh, 0.5);
    out = [ops.sub(gx, hw), ops.sub(gy, hh), ops.add(gx, hw), ops.add(gy, hh)];
  } else {
    const [dx, dy, dw0, dh0] = d.map((v, i) => (coder.weights[i] === 1 ? v : ops.divScalar(v, coder.weights[i])));
    const widths = ops.sub(x2, x1);
    const heights = ops.sub(y2, y1);
    const cx = ops.add(x1, ops.mulScalar(widths, 0.5));
    const cy = ops.add(y1, ops.mulScalar(heights, 0.5));
    const dw = ops.clamp(dw0, undefined, coder.clip);
    const dh = ops.clamp(dh0, undefined, coder.clip);
    const pcx = ops.add(ops.mul(dx, widths), cx);
    const pcy = ops.add(ops.mul(dy, heights), cy);
    const hw = ops.mulScalar(ops.mul(ops.exp(dw), widths), 0.5);
    const hh = ops.mulScalar(ops.mul(ops.exp(dh), heights), 0.5);
    out = [ops.sub(pcx, hw), ops.sub(pcy, hh), ops.add(pcx, hw), ops.add(pcy, hh)];
  }
  return ops.stackColumns(imageSize ? clipColumns(ops, out, imageSize) : out);
}

/** Clamps x columns to [0, width] and y columns to [0, height]; `imageSize` is [height, width]. */
function clipColumns<T>(ops: DetOps<T>, cols: T[], imageSize: T): T[] {
  const h = ops.element(imageSize, 0);
  const w = ops.element(imageSize, 1);
  return cols.map((c, i) => ops.minimum(ops.clamp(c, 0), i % 2 === 0 ? w : h));
}

/** Mask [N] of boxes whose width and height exceed `minSize` (≥ with `inclusive`, torchvision; > otherwise, mmdetection). */
export function sizeMask<T>(ops: DetOps<T>, boxes: T, minSize: number, inclusive: boolean): T {
  const w = ops.sub(ops.column(boxes, 2), ops.column(boxes, 0));
  const h = ops.sub(ops.column(boxes, 3), ops.column(boxes, 1));
  return ops.and(ops.greaterScalar(w, minSize, inclusive), ops.greaterScalar(h, minSize, inclusive));
}
