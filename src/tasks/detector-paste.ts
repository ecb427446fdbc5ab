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

/** mmdetection's paste: probabilities of the skip-empty region of one box. */
export function pasteGridSample(mask: Float32Array, m: number, box: readonly number[], imgH: number, imgW: number): ProbRegion {
  const [bx0, by0, bx1, by1] = box.map(f);
  const x0 = Math.max(Math.floor(bx0) - 1, 0);
  const y0 = Math.max(Math.floor(by0) - 1, 0);
  const x1 = Math.min(Math.ceil(bx1) + 1, imgW);
  const y1 = Math.min(Math.ceil(by1) + 1, imgH);
  const width = Math.max(x1 - x0, 0);
  const height = Math.max(y1 - y0, 0);
  const norm = (p: number, lo: number, hi: number) => {
    const g = f(f(f(f(f(p + 0.5) - lo) / f(hi - lo)) * 2) - 1);
    return g === Infinity || g === -Infinity ? 0 : g;
  };
  // Source coordinates in the mask (grid_sample unnormalise, align_corners=False).
  const src = (g: number) => f(f(f(f(g + 1) * m) - 1) / 2);
  const xs = Array.from({ length: width }, (_, i) => src(norm(x0 + i, bx0, bx1)));
  const ys = Array.from({ length: height }, (_, j) => src(norm(y0 + j, by0, by1)));
  const at = (y: number, x: number) => (y >= 0 && y < m && x >= 0 && x < m ? mask[y * m + x] : 0);
  const data = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const iy = ys[j];
    const yn = Math.floor(iy);
    const south = f(iy - yn);
    const north = f(yn + 1 - iy);
    for (let i = 0; i < width; i++) {
      const ix = xs[i];
      const xw = Math.floor(ix);
      const east = f(ix - xw);
      const west = f(xw + 1 - ix);
      // PyTorch grid_sampler_2d (bilinear, zeros): nw·v + ne·v + sw·v + se·v, taps outside read 0.
      let v = f(at(yn, xw) * f(west * north));
      v = f(v + f(at(yn, xw + 1) * f(east * north)));
      v = f(v + f(at(yn + 1, xw) * f(west * south)));
      data[j * width + i] = f(v + f(at(yn + 1, xw + 1) * f(east * south)));
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
  const padded = (y: number, x: number) => (y >= pad && y < m + pad && x >= pad && x < m + pad ? mask[(y - pad) * m + (x - pad)] : 0);
  // F.interpolate(bilinear, align_corners=False) source index and weights along one axis.
  const axis = (out: number) => {
    const ratio = f(p / out);
    return Array.from({ length: out }, (_, d) => {
      const real = Math.max(f(f(ratio * f(d + 0.5)) - 0.5), 0);
      const i0 = Math.trunc(real);
      const i1 = i0 + (i0 < p - 1 ? 1 : 0);
      const l1 = Math.min(Math.max(f(real - i0), 0), 1);
      return [i0, i1, f(1 - l1), l1] as const;
    });
  };
  const xw = axis(w);
  const yw = axis(h);
  const xa = Math.max(bx0, 0);
  const xb = Math.min(bx1 + 1, imgW);
  const ya = Math.max(by0, 0);
  const yb = Math.min(by1 + 1, imgH);
  const width = Math.max(xb - xa, 0);
  const height = Math.max(yb - ya, 0);
  const data = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const [i0, i1, h0, h1] = yw[ya + j - by0];
    for (let i = 0; i < width; i++) {
      const [j0, j1, w0, w1] = xw[xa + i - bx0];
      const top = f(f(w0 * padded(i0, j0)) + f(w1 * padded(i0, j1)));
      const bottom = f(f(w0 * padded(i1, j0)) + f(w1 * padded(i1, j1)));
      data[j * width + i] = f(f(h0 * top) + f(h1 * bottom));
    }
  }
  return { x0: xa, y0: ya, width, height, data };
}

/** Pastes one mask (m × m probabilities) for `box` (image coordinates) and thresholds it (≥ thr). */
export function pasteMask(mode: PasteMode, mask: Float32Array, m: number, box: readonly number[], imgH: number, imgW: number, thr: number): MaskRegion {
  const r = mode === 'grid_sample' ? pasteGridSample(mask, m, box, imgH, imgW) : pasteTorchvision(mask, m, box, imgH, imgW);
  const data = new Uint8Array(r.data.length);
  for (let i = 0; i < data.length; i++) data[i] = r.data[i] >= thr ? 1 : 0;
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
