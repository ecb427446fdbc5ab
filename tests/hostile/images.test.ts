/**
 * Hostile and unusual images: truncated files, decompression bombs (refused from the header,
 * before decoding), SVG with external references (never handed to a renderer), formats we do not
 * read, and the legitimate oddities that must decode right (16-bit, CMYK, animated, grey + alpha).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../src/core/errors.js';
import { resetLimits, setLimits } from '../../src/core/limits.js';
import { readRgb } from '../../src/io/image.js';
import { readLabelMap } from '../../src/io/seg-dataset.js';
import { bytes, pngChunk, pngClaiming } from './craft.js';

const tmp = mkdtempSync(join(tmpdir(), 'hostile-img-'));
const put = (name: string, data: Uint8Array | string): string => {
  const file = join(tmp, name);
  writeFileSync(file, data);
  return file;
};
afterEach(() => resetLimits());

async function imageError(file: string): Promise<string> {
  const t0 = performance.now();
  try {
    await readRgb(file);
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
    expect(e.message.startsWith(file), e.message).toBe(true);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(3000);
    return e.message;
  }
  throw new Error(`${file}: expected an error`);
}

let png: Buffer;
let jpeg: Buffer;
beforeAll(async () => {
  const px = Buffer.alloc(32 * 24 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 256;
  png = await sharp(px, { raw: { width: 32, height: 24, channels: 3 } }).png().toBuffer();
  jpeg = await sharp(px, { raw: { width: 32, height: 24, channels: 3 } }).jpeg().toBuffer();
});

describe('refused with a one-line error naming the file', () => {
  it('truncated PNG and JPEG', async () => {
    expect(await imageError(put('cut.png', png.subarray(0, png.length >> 1)))).toMatch(/cannot read image \(PNG: /);
    expect(await imageError(put('cut.jpg', jpeg.subarray(0, jpeg.length >> 1)))).toMatch(/cannot read image \(JPEG: /);
  });

  it('a 16000² PNG of a few hundred bytes: refused from its header', async () => {
    expect(await imageError(put('bomb.png', pngClaiming(16000, 16000)))).toMatch(/image of 16000×16000 pixels \(limit image_pixels=40000000; raise it with CONVNEXT_LIMITS=image_pixels=N\)/);
  });

  it('a header within the limit over missing data fails in the decoder, not later', async () => {
    expect(await imageError(put('short.png', pngClaiming(4000, 4000, 2, 3)))).toMatch(/cannot read image \(PNG: /);
  });

  it('the limit is configurable', async () => {
    setLimits({ image_pixels: 100 });
    expect(await imageError(put('small.png', png))).toMatch(/image of 32×24 pixels \(limit image_pixels=100;/);
  });

  it('SVG with an external reference is never rendered, whatever its extension', async () => {
    put('secret.png', png);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="24"><image xlink:href="secret.png" width="32" height="24"/></svg>';
    for (const name of ['ref.svg', 'ref.png', 'ref.jpg']) {
      expect(await imageError(put(name, svg))).toMatch(/cannot read image \(SVG; accepted: JPEG, PNG, WebP, TIFF, GIF, AVIF\)/);
    }
    expect(await imageError(put('xml.png', `<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`))).toMatch(/XML or HTML text/);
  });

  it('formats we do not read, and empty files', async () => {
    expect(await imageError(put('a.bmp', bytes('BM', new Uint8Array(60))))).toMatch(/\(BMP; accepted: /);
    expect(await imageError(put('a.pdf', '%PDF-1.4\n'))).toMatch(/\(PDF; accepted: /);
    expect(await imageError(put('empty.png', new Uint8Array(0)))).toMatch(/\(an empty file; accepted: /);
    expect(await imageError(put('noise.png', Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255)))).toMatch(/not a known image format/);
  });

  it('a symlink loop names itself', async () => {
    symlinkSync(join(tmp, 'loop-b'), join(tmp, 'loop-a'));
    symlinkSync(join(tmp, 'loop-a'), join(tmp, 'loop-b'));
    expect(await imageError(join(tmp, 'loop-a'))).toMatch(/too many levels of symbolic links/);
    expect(await imageError(join(tmp, 'missing.png'))).toMatch(/file not found$/);
    expect(await imageError(tmp)).toMatch(/is a folder, not a file$/);
  });
});

describe('legitimate oddities decode to upright 8-bit RGB', () => {
  it('16-bit PNG: 8-bit values of the 16-bit samples', async () => {
    const px = new Uint16Array(4 * 2 * 3).fill(0x8080);
    const file = put('p16.png', await sharp(Buffer.from(px.buffer), { raw: { width: 4, height: 2, channels: 3, premultiplied: false } }).toColourspace('rgb16').png().toBuffer());
    const meta = await sharp(file).metadata();
    expect(meta.depth).toBe('ushort');
    const img = await readRgb(file);
    expect([img.width, img.height]).toEqual([4, 2]);
    expect(Array.from(new Set(img.data))).toEqual([128]);
  });

  it('CMYK JPEG: converted to sRGB', async () => {
    const file = put('cmyk.jpg', await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 30 } } }).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer());
    expect((await sharp(file).metadata()).space).toBe('cmyk');
    const img = await readRgb(file);
    expect(img.data.length).toBe(8 * 8 * 3);
    const [r, g, b] = img.data;
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('animated GIF: the first frame only', async () => {
    const red = await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const green = await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 0, g: 255, b: 0 } } }).png().toBuffer();
    const blue = await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
    const file = put('anim.gif', await sharp([red, green, blue], { join: { animated: true } }).gif().toBuffer());
    expect((await sharp(file).metadata()).pages).toBe(3);
    const img = await readRgb(file);
    expect([img.width, img.height]).toEqual([6, 4]);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 0, 0]);
  });

  it('grey + alpha PNG: alpha dropped, grey replicated', async () => {
    const file = put('ga.png', await sharp(Buffer.from([90, 255, 90, 0]), { raw: { width: 2, height: 1, channels: 2 } }).png().toBuffer());
    const img = await readRgb(file);
    expect(Array.from(img.data)).toEqual([90, 90, 90, 90, 90, 90]);
  });
});

describe('label-map PNGs (our own decoder)', () => {
  const labelError = (file: string): string => {
    try {
      readLabelMap(file);
    } catch (e) {
      if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
      expect(e.message.split('\n')).toHaveLength(1);
      return e.message;
    }
    throw new Error('expected an error');
  };

  it('a 20000² label map is refused from its header', () => {
    expect(labelError(put('label-bomb.png', pngClaiming(20000, 20000, 0)))).toMatch(/label map of 20000×20000 pixels \(limit image_pixels=/);
  });

  it('IDAT that inflates past the image is refused without inflating it all', () => {
    expect(labelError(put('label-long.png', longIdat()))).toMatch(/PNG data longer than its 4×4 pixels/);
  });

  it('a short IHDR, a bad CRC, a missing IEND', () => {
    const sig = Buffer.from('89504e470d0a1a0a', 'hex');
    expect(labelError(put('label-ihdr0.png', bytes(sig, pngChunk('IHDR', new Uint8Array(0)))))).toMatch(/IHDR of 0 bytes/);
    const good = pngClaiming(4, 4, 0, 4);
    const badCrc = Uint8Array.from(good);
    badCrc[29] ^= 0xff; // inside IHDR's CRC
    expect(labelError(put('label-crc.png', badCrc))).toMatch(/bad CRC in chunk IHDR/);
    expect(labelError(put('label-noend.png', good.subarray(0, good.length - 12)))).toMatch(/no IEND/);
  });

  it('a label map that is RGB, or not a PNG', () => {
    expect(labelError(put('label-rgb.png', pngClaiming(4, 4, 2, 4)))).toMatch(/must be single-channel/);
    expect(labelError(put('label-text.png', 'hello'))).toMatch(/not a PNG file/);
  });
});

/** A 4×4 grey PNG whose IDAT inflates to 1 MB. */
function longIdat(): Uint8Array {
  const good = pngClaiming(4, 4, 0, 4);
  const big = pngClaiming(1024, 1024, 0, 1024);
  // IHDR from the small image, IDAT and IEND from the big one.
  return bytes(good.subarray(0, 33), big.subarray(33));
}
