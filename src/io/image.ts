/**
 * Image decoding and resizing through sharp: EXIF orientation applied, any input (grey, RGBA,
 * 16-bit, palette) turned into 8-bit RGB; classification preprocessing. Pixel operations that need
 * no decoder (crop, flip, normalisation) are in src/image.
 */
import sharp from 'sharp';
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { cropRgb, type RgbImage, toTensor } from '../image/rgb.js';

/** Largest accepted side (pixels), to refuse decompression bombs with a clear message. */
export const MAX_IMAGE_SIDE = 16384;

/** Decodes an image file (or buffer) into upright 8-bit RGB. `name` is used in errors. */
export async function readRgb(input: string | Uint8Array, name = typeof input === 'string' ? input : '<buffer>'): Promise<RgbImage> {
  try {
    const img = sharp(input, { failOn: 'error', limitInputPixels: MAX_IMAGE_SIDE * MAX_IMAGE_SIDE })
      .rotate() // apply EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' });
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (/no such file|ENOENT|input file is missing/i.test(msg)) throw new UserError(`${name}: file not found`);
    throw new UserError(`${name}: cannot read image (${msg})`);
  }
}

/** Resizes RGB pixels to exactly width × height (bilinear by default; 'cubic' is Catmull-Rom, as PIL's bicubic). */
export async function resizeRgb(img: RgbImage, width: number, height: number, kernel: 'linear' | 'cubic' = 'linear'): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const { data } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Classification preprocessing as the official ConvNeXt evaluation: resize the shorter side to
 * `resize` (bicubic), centre-crop `crop`.
 */
export async function classificationInput(
  img: RgbImage,
  opts: { resize: number; crop: number; mean: readonly number[]; std: readonly number[] },
): Promise<HostTensor> {
  // torchvision Resize(int): the shorter side becomes `resize`, the longer one int(resize · long / short).
  const short = Math.min(img.width, img.height);
  const w = img.width === short ? opts.resize : Math.trunc((opts.resize * img.width) / short);
  const h = img.height === short ? opts.resize : Math.trunc((opts.resize * img.height) / short);
  const resized = await resizeRgb(img, w, h, 'cubic');
  // CenterCrop: offsets int(round((size - crop) / 2)) with Python's round (half to even).
  const left = roundHalfEven((w - opts.crop) / 2);
  const top = roundHalfEven((h - opts.crop) / 2);
  return toTensor(cropRgb(resized, left, top, opts.crop, opts.crop), opts.mean, opts.std);
}
