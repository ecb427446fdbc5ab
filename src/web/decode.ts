/**
 * Decoding an image file in the page into 8-bit RGB pixels (the browser's decoders, exact bytes:
 * no colour-space conversion, no premultiplied alpha), downscaled when it is larger than the page
 * handles at once.
 */
import { UserError } from '../core/errors.js';
import type { RgbImage } from '../image/rgb.js';

/** Images with a longer side than this are downscaled to it before inference (with a notice). */
export const MAX_SIDE = 4096;

/** A decoded image, and a notice when it was downscaled. */
export interface DecodedImage {
  image: RgbImage;
  notice?: string;
}

const EXACT: ImageBitmapOptions = { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' };

/** Decodes `file` (named `name` in messages); a one-line {@link UserError} when the browser cannot decode it. */
export async function decodeImage(file: Blob, name: string): Promise<DecodedImage> {
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(file, EXACT);
  } catch {
    throw new UserError(`${name}: not an image this browser can decode (expected JPEG, PNG, WebP, GIF, AVIF or BMP)`);
  }
  let notice: string | undefined;
  const long = Math.max(bmp.width, bmp.height);
  if (long > MAX_SIDE) {
    const f = MAX_SIDE / long;
    const [w, h] = [Math.max(1, Math.round(bmp.width * f)), Math.max(1, Math.round(bmp.height * f))];
    notice = `${name}: ${bmp.width}×${bmp.height} is larger than ${MAX_SIDE} px on the long side; downscaled to ${w}×${h}`;
    bmp.close();
    bmp = await createImageBitmap(file, { ...EXACT, resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  }
  const image = bitmapToRgb(bmp);
  bmp.close();
  return notice ? { image, notice } : { image };
}

/** The RGB pixels of a bitmap (alpha dropped). */
export function bitmapToRgb(bmp: ImageBitmap): RgbImage {
  const canvas = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.drawImage(bmp, 0, 0);
  const rgba = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
  const n = bmp.width * bmp.height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i];
    data[3 * i + 1] = rgba[4 * i + 1];
    data[3 * i + 2] = rgba[4 * i + 2];
  }
  return { width: bmp.width, height: bmp.height, data };
}
