/**
 * Test-time image preprocessing of mmsegmentation's pipeline: keep-ratio rescale into
 * `img_scale` (mmcv.rescale_size), bilinear resize of the 8-bit image, horizontal flip.
 */
import type { RgbImage } from '../../image/rgb.js';
import { axisWeights } from './segmentor-logits.js';

/**
 * The size (width, height) an image of `w` × `h` is resized to: with `scale` = (long, short),
 * factor = min(long / max(w, h), short / min(w, h)) (mmcv `rescale_size` with keep_ratio); without
 * it, the factor is `ratio` itself. Sides are rounded half up and at least 1.
 */
export function rescaleSize(w: number, h: number, scale: readonly [number, number] | null, ratio = 1): [number, number] {
  let f: number;
  if (scale) {
    const long = Math.trunc(Math.max(scale[0], scale[1]) * ratio);
    const short = Math.trunc(Math.min(scale[0], scale[1]) * ratio);
    f = Math.min(long / Math.max(w, h), short / Math.min(w, h));
  } else {
    f = ratio;
  }
  return [Math.max(1, Math.trunc(w * f + 0.5)), Math.max(1, Math.trunc(h * f + 0.5))];
}

/**
 * Bilinear resize of 8-bit RGB with PyTorch's align_corners=False sampling (the rule of OpenCV's
 * INTER_LINEAR too), computed in double precision and rounded half up. OpenCV's fixed-point
 * arithmetic can differ from this by one level on some pixels.
 */
export function resizeRgbBilinear(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const hy = axisWeights(img.height, height);
  const ax = axisWeights(img.width, width);
  const out = new Uint8Array(width * height * 3);
  const stride = img.width * 3;
  const src = img.data;
  for (let y = 0; y < height; y++) {
    const r0 = hy.i0[y] * stride;
    const r1 = hy.i1[y] * stride;
    const h0 = hy.w0[y];
    const h1 = hy.w1[y];
    for (let x = 0; x < width; x++) {
      const a = ax.i0[x] * 3;
      const b = ax.i1[x] * 3;
      const w0 = ax.w0[x];
      const w1 = ax.w1[x];
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = (src[r0 + a + c] * w0 + src[r0 + b + c] * w1) * h0 + (src[r1 + a + c] * w0 + src[r1 + b + c] * w1) * h1;
        out[o + c] = Math.min(255, Math.max(0, Math.floor(v + 0.5)));
      }
    }
  }
  return { width, height, data: out };
}

