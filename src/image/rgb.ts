/**
 * 8-bit RGB images and the pixel operations that need no decoder: crop, horizontal flip,
 * normalisation into an NCHW tensor. Plain TypeScript (no sharp), so they run in Node and in a
 * browser alike.
 */
import type { HostTensor } from '../core/host-tensor.js';

/** Decoded 8-bit RGB pixels, row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes. */
  data: Uint8Array;
}

/** Crops a rectangle out of RGB pixels. */
export function cropRgb(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(src, src + width * 3), y * width * 3);
  }
  return { width, height, data: out };
}

/** Mirrors an image left-right. */
export function flipRgb(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  const w = img.width;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = (y * w + (w - 1 - x)) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width: w, height: img.height, data: out };
}

/**
 * RGB pixels → normalised NCHW float32 [1, 3, H, W]: (pixel − mean) / std, on the 0–255 scale.
 * With `padTo`, the tensor is zero-padded (after normalisation, as mmdetection) at the bottom and
 * right to a multiple of it.
 */
export function toTensor(img: RgbImage, mean: readonly number[], std: readonly number[], padTo = 1): HostTensor {
  const h = Math.ceil(img.height / padTo) * padTo;
  const w = Math.ceil(img.width / padTo) * padTo;
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    const plane = c * h * w;
    const m = mean[c];
    const s = 1 / std[c];
    for (let y = 0; y < img.height; y++) {
      const row = plane + y * w;
      let src = y * img.width * 3 + c;
      for (let x = 0; x < img.width; x++, src += 3) out[row + x] = (img.data[src] - m) * s;
    }
  }
  return { shape: [1, 3, h, w], data: out };
}
