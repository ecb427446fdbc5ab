/**
 * Label maps as PNG, read and written exactly (no colour conversion): grayscale 8- or 16-bit
 * images whose sample is the class index, and palette images whose index is (as PIL reads them,
 * and mmsegmentation with it). Non-interlaced PNG only; anything else is refused by name.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { UserError } from '../core/errors.js';
import { limits, overLimit } from '../core/limits.js';

/** A decoded label map: one value per pixel, row-major. */
export interface LabelImage {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
}

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** One PNG chunk: length, type, body, CRC-32 of type and body. */
export function pngChunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** Encodes a label map as a grayscale PNG: 8-bit for Uint8Array data, 16-bit for Uint16Array. */
export function encodeLabelPng(img: LabelImage): Buffer {
  const { width, height, data } = img;
  if (data.length !== width * height) throw new Error(`label map: ${data.length} values for ${width}x${height}`);
  const bytes = data instanceof Uint16Array ? 2 : 1;
  const stride = width * bytes;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1); // filter byte 0 (None), then the samples, big-endian
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      if (bytes === 1) raw[row + 1 + x] = v;
      else raw.writeUInt16BE(v, row + 1 + 2 * x);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bytes * 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a grayscale or palette PNG into per-pixel values (gray samples or palette indices). */
export function decodeLabelPng(png: Uint8Array, name: string): LabelImage {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !SIGNATURE.every((b, i) => buf[i] === b)) throw new UserError(`${name}: not a PNG file`);
  let width = 0;
  let height = 0;
  let depth = 0;
  let colour = -1;
  const idat: Buffer[] = [];
  let off = 8;
  let ended = false;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (off + 12 + len > buf.length) throw new UserError(`${name}: truncated PNG (chunk ${type})`);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== buf.readUInt32BE(off + 8 + len)) throw new UserError(`${name}: corrupt PNG (bad CRC in chunk ${type})`);
    if ((off === 8) !== (type === 'IHDR')) throw new UserError(`${name}: not a valid PNG (IHDR must be the first chunk)`);
    if (type === 'IHDR') {
      if (len !== 13) throw new UserError(`${name}: not a valid PNG (IHDR of ${len} bytes)`);
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8];
      colour = body[9];
      if (body[12] !== 0) throw new UserError(`${name}: interlaced PNG label maps are not supported`);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
    off += 12 + len;
  }
  if (colour === -1) throw new UserError(`${name}: PNG without IHDR`);
  if (!ended) throw new UserError(`${name}: truncated PNG (no IEND)`);
  if (width === 0 || height === 0) throw new UserError(`${name}: PNG of ${width}×${height} pixels`);
  if (![1, 2, 4, 8, 16].includes(depth) || (colour === 3 && depth === 16)) throw new UserError(`${name}: PNG bit depth ${depth} is not valid${colour === 3 ? ' for a palette image' : ''}`);
  if (width * height > limits().image_pixels) throw overLimit('image_pixels', `${name}: label map of ${width}×${height} pixels`);
  if (colour !== 0 && colour !== 3) {
    const kind = { 2: 'RGB', 4: 'grayscale + alpha', 6: 'RGBA' }[colour] ?? `colour type ${colour}`;
    throw new UserError(`${name}: label maps must be single-channel (grayscale or palette) PNGs, this one is ${kind}`);
  }
  const bpp = Math.max(1, depth / 8); // bytes per pixel for filtering (one sample per pixel)
  const stride = Math.ceil((width * depth) / 8);
  let raw: Buffer;
  try {
    // Inflate no more than the image needs (a small file cannot expand to gigabytes).
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: (stride + 1) * height + 1 });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new UserError(`${name}: PNG data longer than its ${width}×${height} pixels`);
    throw new UserError(`${name}: corrupt PNG data (${(e as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) throw new UserError(`${name}: truncated PNG data`);
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = rows.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= bpp ? prev[i - bpp] : 0;
      const v = src[i];
      switch (filter) {
        case 0: cur[i] = v; break;
        case 1: cur[i] = (v + a) & 255; break;
        case 2: cur[i] = (v + b) & 255; break;
        case 3: cur[i] = (v + ((a + b) >> 1)) & 255; break;
        case 4: cur[i] = (v + paeth(a, b, c)) & 255; break;
        default: throw new UserError(`${name}: bad PNG filter type ${filter} in row ${y}`);
      }
    }
  }
  const n = width * height;
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      let v: number;
      if (depth === 16) v = rows.readUInt16BE(row + 2 * x);
      else if (depth === 8) v = rows[row + x];
      else {
        const bit = x * depth;
        v = (rows[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
      }
      data[y * width + x] = v;
    }
  }
  return { width, height, data };
}
