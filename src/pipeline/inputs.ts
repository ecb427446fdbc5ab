/** Turns any accepted image input into decoded RGB pixels, with a name for messages. */
import type { Sharp } from 'sharp';
import { UserError } from '../core/errors.js';
import type { RgbImage } from '../image/rgb.js';
import { readRgb } from '../io/image.js';
import type { ImageInput } from './types.js';

function isSharp(x: unknown): x is Sharp {
  return typeof x === 'object' && x !== null && typeof (x as Sharp).toBuffer === 'function' && typeof (x as Sharp).metadata === 'function';
}

function isRgb(x: unknown): x is RgbImage {
  return typeof x === 'object' && x !== null && 'width' in x && 'height' in x && (x as RgbImage).data instanceof Uint8Array;
}

/** Decodes `input` (the `index`-th of a call, for messages) into upright 8-bit RGB. */
export async function toRgb(input: ImageInput, index: number): Promise<RgbImage> {
  if (typeof input === 'string') return readRgb(input);
  if (isSharp(input)) return readRgb(await input.clone().png().toBuffer(), `input ${index} (sharp)`);
  if (isRgb(input)) {
    const { width, height, data } = input;
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0) || data.length !== width * height * 3) {
      throw new UserError(`input ${index}: RGB pixels need width × height × 3 bytes (got ${data.length} for ${width}×${height})`);
    }
    return input;
  }
  if (input instanceof Uint8Array) return readRgb(input, `input ${index} (buffer)`);
  throw new UserError(`input ${index}: expected a file path, encoded image bytes, a sharp instance or { width, height, data } RGB pixels`);
}
