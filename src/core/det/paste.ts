/**
 * Mask pasting: a detection's 28×28 mask probabilities into the image, thresholded. Two
 * conventions, emulated in float32:
 *
 * - `grid_sample` (mmdetection `_do_paste_mask`, CPU path): each pixel centre of the region
 *   [floor(x0) − 1, ceil(x1) + 1) × … is mapped into the float box, sampled bilinearly from the
 *   28×28 mask (align_corners=False, zeros outside);
 * - `torchvision` (`paste_masks_in_image`): the mask padded to 30×30 with zeros, the box expanded
 *   by 30/28 and truncated to integers, the mask resized bilinearly to the integer box and copied.
 *
 * Results are regions of the image (everything outside is 0), so a hundred instances of a large
 * image cost little.
 */

const f = Math.fround;

/** A binary mask covering `width × height` pixels at (x0, y0) of an image; 1 = inside. */
export interface MaskRegion {
  x0: number;
  y0: number;
  width: number;
  height: number;
  /** Row-major width × height values, 0 or 1. */
  data: Uint8Array;
}

export type PasteMode = 'grid_sample' | 'torchvision';

/** Mask probabilities (row-major m × m) as a float image region, before thresholding. */
export interface ProbRegion {
  x0: number;
  y0: number;
  width: number;
  height: number;
  data: Float32Array;
}

/** The mask with a zero border of one cell: taps at −1 … m read 0 without bounds checks. */
function padded(mask: Float32Array, m: number): Float32Array {
  const p = m + 2;
  const out = new Float32Array(p * p);
  for (let y = 0; y < m; y++) out.set(mask.subarray(y * m, (y + 1) * m), (y + 1) * p + 1);
  return out;
}

/**
 * Bilinear taps along one axis for grid_sample coordinates `src` (unnormalised): the low tap
 * index into the padded mask and the two weights. Taps entirely outside read 0 (weights 0).
 */
function gridTaps(src: Float32Array, m: number): { idx: Int32Array; lo: Float32Array; hi: Float32Array } {
  const n = src.length;
  const idx = new Int32Array(n);
  const lo = new Float32Array(n);
  const hi = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const v = src[k];
    const a = Math.floor(v);
    if (!(a >= -1 && a <= m - 1)) continue; // both taps outside [0, m) (or NaN): reads 0
    idx[k] = a + 1;
    hi[k] = v - a; // float32 store rounds as PyTorch's float arithmetic
    lo[k] = a + 1 - v;
  }
  return { idx, lo, hi };
}

/** mmdetection's paste: probabilities of the skip-empty region of one box. */
export function pasteGridSample(mask: Float32Array, m: number, box: readonly number[], imgH: number, imgW: number): ProbRegion {
  const [bx0, by0, bx1, by1] = box.map(f);
  const x0 = Math.max(Math.floor(bx0) - 1, 0);
  const y0 = Math.max(Math.floor(by0) - 1, 0);
  const x1 = Math.min(Math.ceil(bx1) + 1, imgW);
  const y1 = Math.min(Math.ceil(by1) + 1, imgH);
  const width = Math.max(x1 - x0, 0);
  const height = Math.max(y1 - y0, 0);
  // img_x = (p + 0.5 − x0) / (x1 − x0) · 2 − 1 (inf → 0), then grid_sample's ((g + 1)·m − 1) / 2.
  const coords = (n: number, start: number, lo: number, hi: number) => {
    const out = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      let g = f(f(f(f(f(start + k + 0.5) - lo) / f(hi - lo)) * 2) - 1);
      if (g === Infinity || g === -Infinity) g = 0;
      out[k] = f(f(f(f(g + 1) * m) - 1) / 2);
    }
    return out;
  };
  const xs = gridTaps(coords(width, x0, bx0, bx1), m);
  const ys = gridTaps(coords(height, y0, by0, by1), m);
  const pm = padded(mask, m);
  const p = m + 2;
  const data = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const r0 = ys.idx[j] * p;
    const r1 = r0 + p;
    const north = ys.lo[j];
    const south = ys.hi[j];
    const row = j * width;
    for (let i = 0; i < width; i++) {
      const c = xs.idx[i];
      const west = xs.lo[i];
      const east = xs.hi[i];
      // PyTorch grid_sampler_2d (bilinear, zeros): nw·v + ne·v + sw·v + se·v in float32.
      let v = f(pm[r0 + c] * f(west * north));
      v = f(v + f(pm[r0 + c + 1] * f(east * north)));
      v = f(v + f(pm[r1 + c] * f(west * south)));
      data[row + i] = v + f(pm[r1 + c + 1] * f(east * south));
    }
  }
  return { x0, y0, width, height, data };
}

/** torchvision's paste: probabilities inside the expanded integer box, clipped to the image. */
export function pasteTorchvision(mask: Float32Array, m: number, box: readonly number[], imgH: number, imgW: number): ProbRegion {
  const pad = 1;
  const p = m + 2 * pad;
  const scale = f(p / m);
  const [x1, y1, x2, y2] = box.map(f);
  const wHalf = f(f(f(x2 - x1) * 0.5) * scale);
  const hHalf = f(f(f(y2 - y1) * 0.5) * scale);
  const xc = f(f(x2 + x1) * 0.5);
  const yc = f(f(y2 + y1) * 0.5);
  const bx0 = Math.trunc(f(xc - wHalf));
  const bx1 = Math.trunc(f(xc + wHalf));
  const by0 = Math.trunc(f(yc - hHalf));
  const by1 = Math.trunc(f(yc + hHalf));
  const w = Math.max(bx1 - bx0 + 1, 1);
  const h = Math.max(by1 - by0 + 1, 1);
  const pm = padded(mask, m);
  // F.interpolate(bilinear, align_corners=False) from p to `out` cells, for output cells [from, from + n).
  const axis = (out: number, from: number, n: number) => {
    const ratio = f(p / out);
    const i0 = new Int32Array(n);
    const step = new Int32Array(n);
    const l0 = new Float32Array(n);
    const l1 = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const d = from + k;
      const real = Math.max(f(f(ratio * f(d + 0.5)) - 0.5), 0);
      const a = Math.trunc(real);
      i0[k] = a;
      step[k] = a < p - 1 ? 1 : 0;
      const frac = Math.min(Math.max(f(real - a), 0), 1);
      l1[k] = frac;
      l0[k] = 1 - frac;
    }
    return { i0, step, l0, l1 };
  };
  const xa = Math.max(bx0, 0);
  const xb = Math.min(bx1 + 1, imgW);
  const ya = Math.max(by0, 0);
  const yb = Math.min(by1 + 1, imgH);
  const width = Math.max(xb - xa, 0);
  const height = Math.max(yb - ya, 0);
  const xw = axis(w, xa - bx0, width);
  const yw = axis(h, ya - by0, height);
  const data = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const r0 = yw.i0[j] * p;
    const r1 = r0 + yw.step[j] * p;
    const h0 = yw.l0[j];
    const h1 = yw.l1[j];
    const row = j * width;
    for (let i = 0; i < width; i++) {
      const c0 = xw.i0[i];
      const c1 = c0 + xw.step[i];
      const w0 = xw.l0[i];
      const w1 = xw.l1[i];
      const top = f(f(w0 * pm[r0 + c0]) + f(w1 * pm[r0 + c1]));
      const bottom = f(f(w0 * pm[r1 + c0]) + f(w1 * pm[r1 + c1]));
      data[row + i] = f(h0 * top) + f(h1 * bottom);
    }
  }
  return { x0: xa, y0: ya, width, height, data };
}

/**
 * Pastes one mask (m × m probabilities) for `box` (image coordinates) and thresholds it: ≥ thr as
 * mmdetection's paste, > thr as torchvision's reference evaluation (`masks > 0.5`).
 */
export function pasteMask(mode: PasteMode, mask: Float32Array, m: number, box: readonly number[], imgH: number, imgW: number, thr: number): MaskRegion {
  const r = mode === 'grid_sample' ? pasteGridSample(mask, m, box, imgH, imgW) : pasteTorchvision(mask, m, box, imgH, imgW);
  const data = new Uint8Array(r.data.length);
  if (mode === 'grid_sample') for (let i = 0; i < data.length; i++) data[i] = r.data[i] >= thr ? 1 : 0;
  else for (let i = 0; i < data.length; i++) data[i] = r.data[i] > thr ? 1 : 0;
  return { x0: r.x0, y0: r.y0, width: r.width, height: r.height, data };
}

/** A region as a full image mask (row-major imgH × imgW). */
export function regionToFull(r: MaskRegion, imgH: number, imgW: number): Uint8Array {
  const out = new Uint8Array(imgH * imgW);
  for (let j = 0; j < r.height; j++) out.set(r.data.subarray(j * r.width, (j + 1) * r.width), (r.y0 + j) * imgW + r.x0);
  return out;
}

/** Number of pixels set in a region. */
export function regionArea(r: MaskRegion): number {
  let n = 0;
  for (const v of r.data) n += v;
  return n;
}
