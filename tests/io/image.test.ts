/**
 * Image decoding: EXIF orientation applied, grey/RGBA/16-bit/palette inputs become 8-bit RGB,
 * normalisation and padding follow the mmdetection convention (pad after normalising, zeros).
 * Expected pixels are constructed in the test itself.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { classificationInput, readRgb } from '../../src/io/image.js';
import { toTensor } from '../../src/image/rgb.js';

/** A 3×2 RGB image whose pixels encode their position: (x*80, y*120, 7). */
function gradient(w = 3, h = 2): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b.set([x * 80, y * 120, 7], (y * w + x) * 3);
  return b;
}

describe('readRgb', () => {
  it('applies EXIF orientation (6 = rotate 90° clockwise)', async () => {
    const png = await sharp(gradient(), { raw: { width: 3, height: 2, channels: 3 } }).withMetadata({ orientation: 6 }).png().toBuffer();
    const img = await readRgb(png, 'rotated.png');
    expect([img.width, img.height]).toEqual([2, 3]);
    // After a clockwise quarter turn, the top-left pixel is the source's bottom-left (x=0, y=1).
    expect([...img.data.subarray(0, 3)]).toEqual([0, 120, 7]);
    // and the top-right pixel is the source's top-left (x=0, y=0).
    expect([...img.data.subarray(3, 6)]).toEqual([0, 0, 7]);
  });

  it('turns greyscale into RGB with equal channels', async () => {
    const png = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    const img = await readRgb(png);
    expect(img.data.length).toBe(12);
    expect([...img.data.subarray(3, 6)]).toEqual([100, 100, 100]);
  });

  it('drops alpha from RGBA', async () => {
    const png = await sharp(Buffer.from([10, 20, 30, 0, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const img = await readRgb(png);
    expect([...img.data]).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('reduces 16-bit PNGs to 8 bits', async () => {
    // An 8-bit image widened to 16 bits per channel (values × 257) must read back as the 8-bit values.
    const png = await sharp(Buffer.from([10, 20, 30, 40, 50, 60]), { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const img = await readRgb(png);
    expect([...img.data]).toEqual([10, 20, 30, 40, 50, 60]);
  });
});

describe('toTensor', () => {
  it('normalises per channel into NCHW and zero-pads bottom/right to a multiple', () => {
    const img = { width: 3, height: 2, data: new Uint8Array(gradient()) };
    const t = toTensor(img, [10, 20, 30], [2, 4, 5], 4);
    expect(t.shape).toEqual([1, 3, 4, 4]);
    // channel 0 at (y=1, x=2): (160 - 10) / 2 = 75
    expect(t.data[0 * 16 + 1 * 4 + 2]).toBeCloseTo(75, 5);
    // channel 1 at (y=1, x=0): (120 - 20) / 4 = 25
    expect(t.data[1 * 16 + 1 * 4 + 0]).toBeCloseTo(25, 5);
    // channel 2 anywhere inside: (7 - 30) / 5 = -4.6; padding stays 0
    expect(t.data[2 * 16]).toBeCloseTo(-4.6, 5);
    expect(t.data[2 * 16 + 3 * 4 + 3]).toBe(0);
    expect(t.data[0 * 16 + 0 * 4 + 3]).toBe(0);
  });
});

describe('classificationInput', () => {
  it('resizes the shorter side and centre-crops', async () => {
    const img = { width: 40, height: 20, data: new Uint8Array(40 * 20 * 3).fill(128) };
    const t = await classificationInput(img, { resize: 16, crop: 12, mean: [128, 128, 128], std: [1, 1, 1] });
    expect(t.shape).toEqual([1, 3, 12, 12]);
    expect(Math.max(...t.data.map(Math.abs))).toBeLessThan(1e-6);
  });
});
