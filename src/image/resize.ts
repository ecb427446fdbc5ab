/**
 * Bilinear resizing of 8-bit RGB pixels with the sampling rule of PyTorch's align_corners=False
 * (OpenCV's INTER_LINEAR, mmcv's `imresize` default): plain TypeScript, so Node and browsers
 * produce the same pixels.
 */
import type { RgbImage } from './rgb.js';

/** Source indices and weights of PyTorch's bilinear resize (align_corners=False) along one axis. */
export interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/** src = (dst + 0.5) · in/out − 0.5, clamped at 0; neighbour clamped at the last index. */
export function axisWeights(inLen: number, outLen: number): AxisWeights {
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const w0 = new Float64Array(outLen);
  const w1 = new Float64Array(outLen);
  const scale = inLen / outLen;
  for (let d = 0; d < outLen; d++) {
    const src = Math.max(scale * (d + 0.5) - 0.5, 0);
    const a = Math.floor(src);
    const l = src - a;
    i0[d] = a;
    i1[d] = a < inLen - 1 ? a + 1 : a;
    w0[d] = 1 - l;
    w1[d] = l;
  }
  return { i0, i1, w0, w1 };
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

