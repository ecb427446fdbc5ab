/**
 * Image decoding and resizing through sharp (signature-checked formats, pixel limit): EXIF orientation applied, any input (grey, RGBA,
 * 16-bit, palette) turned into 8-bit RGB; classification preprocessing. Pixel operations that need
 * no decoder (crop, flip, normalisation) are in src/image.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { fileError, UserError } from '../core/errors.js';
import { limits, overLimit } from '../core/limits.js';
import type { HostTensor } from '../core/host-tensor.js';
import { cropRgb, type RgbImage, toTensor } from '../image/rgb.js';

/** An input that is not one of the accepted image formats (a server answers 415). */
export class UnsupportedImageFormat extends UserError {
  override name = 'UnsupportedImageFormat';
}

/** The encoded formats read as input images, by the name {@link sniffImageFormat} gives them. */
export const INPUT_IMAGE_FORMATS = ['JPEG', 'PNG', 'WebP', 'TIFF', 'GIF', 'AVIF'] as const;

/** One of {@link INPUT_IMAGE_FORMATS}. */
export type InputImageFormat = (typeof INPUT_IMAGE_FORMATS)[number];

function startsWith(b: Uint8Array, at: number, text: string): boolean {
  if (b.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * The format of encoded image bytes from their signature, or a description of what they are
 * instead. Only signatures are trusted: a file's extension says nothing, and formats that can
 * refer to other files (SVG) or that no input needs are never handed to the decoder.
 */
export function sniffImageFormat(b: Uint8Array): { format: InputImageFormat } | { other: string } {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { format: 'JPEG' };
  if (startsWith(b, 0, '\x89PNG\r\n\x1a\n')) return { format: 'PNG' };
  if (startsWith(b, 0, 'RIFF') && startsWith(b, 8, 'WEBP')) return { format: 'WebP' };
  if (startsWith(b, 0, 'II*\0') || startsWith(b, 0, 'MM\0*') || startsWith(b, 0, 'II+\0') || startsWith(b, 0, 'MM\0+')) return { format: 'TIFF' };
  if (startsWith(b, 0, 'GIF87a') || startsWith(b, 0, 'GIF89a')) return { format: 'GIF' };
  if (startsWith(b, 4, 'ftypavif') || startsWith(b, 4, 'ftypavis')) return { format: 'AVIF' };
  if (b.length === 0) return { other: 'an empty file' };
  if (startsWith(b, 0, 'BM')) return { other: 'BMP' };
  if (startsWith(b, 4, 'ftyp')) return { other: 'HEIF/ISO media that is not AVIF' };
  const head = new TextDecoder('latin1').decode(b.subarray(0, 1024)).toLowerCase();
  if (head.includes('<svg')) return { other: 'SVG' };
  if (head.trimStart().startsWith('<')) return { other: 'XML or HTML text' };
  if (startsWith(b, 0, '%PDF')) return { other: 'PDF' };
  return { other: 'not a known image format' };
}

async function readBytes(input: string | Uint8Array, name: string): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (e) {
    throw fileError(name, e);
  }
}

/**
 * Decodes an image file (or encoded bytes) into upright 8-bit RGB: JPEG, PNG, WebP, TIFF, GIF (the
 * first frame) or AVIF, recognised by signature. SVG and other formats are refused (an SVG can
 * read other files), and so is anything over the `image_pixels` limit, from its header, before
 * decoding. `name` is used in errors.
 */
export async function readRgb(input: string | Uint8Array, name = typeof input === 'string' ? input : '<buffer>'): Promise<RgbImage> {
  const bytes = await readBytes(input, name);
  const kind = sniffImageFormat(bytes);
  if ('other' in kind) throw new UnsupportedImageFormat(`${name}: cannot read image (${kind.other}; accepted: ${INPUT_IMAGE_FORMATS.join(', ')})`);
  const maxPixels = limits().image_pixels;
  try {
    const source = sharp(bytes, { failOn: 'error', limitInputPixels: false, pages: 1 });
    const meta = await source.metadata();
    const width = meta.width ?? 0;
    const height = meta.pageHeight ?? meta.height ?? 0;
    if (width * height > maxPixels) throw overLimit('image_pixels', `${name}: image of ${width}×${height} pixels`);
    const img = sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels, pages: 1 })
      .rotate() // apply EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' });
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    if (e instanceof UserError) throw e;
    const msg = (e as Error).message.split('\n')[0];
    throw new UserError(`${name}: cannot read image (${kind.format}: ${msg})`);
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
