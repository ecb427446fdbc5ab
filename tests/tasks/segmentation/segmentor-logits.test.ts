/**
 * Host-side segmentation steps, checked by hand: mmseg's slide windows, PyTorch's bilinear
 * source-index rule, argmax tie-breaking, count-normalised stitching, softmax averaging with flip,
 * mmcv's keep-ratio rescale size, the 8-bit image resize, and the label PNG codec.
 */
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import {
  accumulateSoftmax, argmax, resizeArgmax, resizeScores, type ScoreMap, slideInference, slideWindows,
} from '../../../src/tasks/segmentation/segmentor-logits.js';
import { axisWeights, resizeRgbBilinear } from '../../../src/image/resize.js';
import { rescaleSize } from '../../../src/tasks/segmentation/segmentor-preprocess.js';
import { flipRgb } from '../../../src/image/rgb.js';
import { decodeLabelPng, encodeLabelPng, pngChunk } from '../../../src/io/label-png.js';

describe('slideWindows', () => {
  it('follows mmseg: grids = max(H − crop + stride − 1, 0) // stride + 1, last window shifted back', () => {
    // H = 333, crop 128, stride 85: (333 − 128 + 84) // 85 + 1 = 4 rows: y1 = 0, 85, 170, then 255 → 205 (333 − 128).
    const rows = [...new Set(slideWindows(333, 100, [128, 128], [85, 85]).map((w) => `${w.y1}-${w.y2}`))];
    expect(rows).toEqual(['0-128', '85-213', '170-298', '205-333']);
    // Smaller than the crop: one window, the whole image (no padding).
    expect(slideWindows(96, 100, [128, 128], [85, 85])).toEqual([{ y1: 0, y2: 96, x1: 0, x2: 100 }]);
    // ADE20K at 512×683 with crop 512 stride 341: 1 × 2 windows.
    expect(slideWindows(512, 683, [512, 512], [341, 341]).map((w) => [w.x1, w.x2])).toEqual([[0, 512], [171, 683]]);
  });

  it('divides overlapping sums by the per-pixel count', async () => {
    // A 1×1×4×6 input, crop 4×4, stride 2: windows x ∈ [0, 4) and [2, 6), returning 1 and 3.
    const input = { shape: [1, 1, 4, 6], data: new Float32Array(24) };
    let calls = 0;
    const s = await slideInference(input, [4, 4], [2, 2], async (crop) => {
      const [, , h, w] = crop.shape;
      return { channels: 1, height: h, width: w, data: new Float32Array(h * w).fill(calls++ === 0 ? 1 : 3) };
    });
    // Columns 0–1 see only window 1 (1), 2–3 both ((1 + 3) / 2 = 2), 4–5 only window 2 (3).
    expect(Array.from(s.data.subarray(0, 6))).toEqual([1, 1, 2, 2, 3, 3]);
  });
});

describe('bilinear resize (align_corners=False)', () => {
  it('uses src = (dst + 0.5)·in/out − 0.5 clamped at 0, neighbour clamped at the end', () => {
    // 2 → 4: src = −0.25 → 0 (weights 1, 0), 0.25, 0.75, 1.25 (i0 = 1, i1 clamped to 1).
    const w = axisWeights(2, 4);
    expect(Array.from(w.i0)).toEqual([0, 0, 0, 1]);
    expect(Array.from(w.i1)).toEqual([1, 1, 1, 1]);
    expect(Array.from(w.w1)).toEqual([0, 0.25, 0.75, 0.25]);
    const s: ScoreMap = { channels: 1, height: 1, width: 2, data: Float32Array.from([0, 8]) };
    expect(Array.from(resizeScores(s, 1, 4).data)).toEqual([0, 2, 6, 8]);
  });

  it('fused resize + argmax picks what argmax of the resized scores picks; first maximum wins ties', () => {
    const s: ScoreMap = { channels: 3, height: 2, width: 3, data: Float32Array.from([0, 1, 2, 3, 4, 5, /**/ 5, 4, 3, 2, 1, 0, /**/ 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]) };
    const big = resizeScores(s, 5, 7);
    expect(Array.from(resizeArgmax(s, 5, 7).data)).toEqual(Array.from(argmax(big).data));
    // Ties: class 0 = 1 = 2 at equal scores → 0.
    expect(argmax({ channels: 2, height: 1, width: 1, data: Float32Array.from([1, 1]) }).data[0]).toBe(0);
  });

  it('averages softmax over passes and flips the flipped pass back', () => {
    const acc = new Float32Array(2 * 1 * 2);
    // Pass 1: pixel 0 prefers class 0 strongly; pass 2 (flipped) holds the mirrored scores.
    const s: ScoreMap = { channels: 2, height: 1, width: 2, data: Float32Array.from([10, 0, 0, 10]) };
    const mirrored: ScoreMap = { channels: 2, height: 1, width: 2, data: Float32Array.from([0, 10, 10, 0]) };
    accumulateSoftmax(acc, s, 1, 2, false);
    accumulateSoftmax(acc, mirrored, 1, 2, true);
    const p = 1 / (1 + Math.exp(-10));
    expect(acc[0]).toBeCloseTo(2 * p, 6); // class 0 at pixel 0: both passes agree
    expect(acc[1]).toBeCloseTo(2 * (1 - p), 6);
  });
});

describe('preprocessing', () => {
  it('rescales like mmcv.rescale_size into (long, short) with keep_ratio', () => {
    // 683×512 into (2048, 512): min(2048/683, 512/512) = 1 → unchanged.
    expect(rescaleSize(683, 512, [2048, 512])).toEqual([683, 512]);
    // 4000×3000: min(2048/4000, 512/3000) = 0.170667 → 683×512 (rounded half up).
    expect(rescaleSize(4000, 3000, [2048, 512])).toEqual([683, 512]);
    // 1×1: min(2048, 512) = 512 → 512×512.
    expect(rescaleSize(1, 1, [2048, 512])).toEqual([512, 512]);
    // Ratio 0.75 of (2048, 512) is (1536, 384): 683×512 → 512×384.
    expect(rescaleSize(683, 512, [2048, 512], 0.75)).toEqual([512, 384]);
    // No scale: the ratio itself.
    expect(rescaleSize(151, 97, null, 1.25)).toEqual([189, 121]);
  });

  it('resizes 8-bit RGB bilinearly (half-pixel centres, rounded half up) and flips', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 100, 201, 255]) };
    // 2 → 4 columns with weights (1,0), (0.75,0.25), (0.25,0.75), (0,1).
    const r = resizeRgbBilinear(img, 4, 1);
    expect(Array.from(r.data)).toEqual([0, 0, 0, 25, 50, 64, 75, 151, 191, 100, 201, 255]);
    expect(Array.from(flipRgb(img).data)).toEqual([100, 201, 255, 0, 0, 0]);
  });
});

describe('label PNG codec', () => {
  it('round-trips 8- and 16-bit label maps and sharp reads them as single-channel images', async () => {
    const l8 = { width: 5, height: 3, data: Uint8Array.from({ length: 15 }, (_, i) => (i * 37) % 151) };
    const png8 = encodeLabelPng(l8);
    expect(decodeLabelPng(png8, 'a.png')).toEqual(l8);
    const meta = await sharp(png8).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([5, 3, 1, 'uchar']);
    const l16 = { width: 4, height: 2, data: Uint16Array.from([0, 1, 300, 65535, 255, 256, 1000, 7]) };
    expect(decodeLabelPng(encodeLabelPng(l16), 'b.png')).toEqual(l16);
  });

  it('decodes palette PNGs as indices, undoes every filter type, and refuses RGB label maps', async () => {
    // A 4-bit palette image written by hand: 3×2 pixels, rows filtered with Sub and Paeth.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(3, 0);
    ihdr.writeUInt32BE(2, 4);
    ihdr[8] = 4;
    ihdr[9] = 3;
    // Row 0 indices 1, 2, 3 → bytes 0x12 0x30; Sub (bpp 1): 0x12, 0x30 − 0x12 = 0x1e.
    // Row 1 indices 4, 5, 6 → bytes 0x45 0x60; Paeth with above row (0x12, 0x30): a=0,b=0x12,c=0 → pred 0x12: 0x33; then a=0x45,b=0x30,c=0x12 → p = 0x63, pa = |0x63−0x45| = 30, pb = 51, pc = 81 → a: 0x60 − 0x45 = 0x1b.
    const raw = Buffer.from([1, 0x12, 0x1e, 4, 0x33, 0x1b]);
    const png = Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      pngChunk('IHDR', ihdr), pngChunk('PLTE', Buffer.alloc(3 * 16)), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)),
    ]);
    expect(Array.from(decodeLabelPng(png, 'p.png').data)).toEqual([1, 2, 3, 4, 5, 6]);
    const rgb = await sharp(Buffer.alloc(12), { raw: { width: 2, height: 2, channels: 3 } }).png().toBuffer();
    expect(() => decodeLabelPng(rgb, 'rgb.png')).toThrow(/rgb\.png: label maps must be single-channel .* RGB/);
    expect(() => decodeLabelPng(Buffer.from('not a png'), 'x.png')).toThrow(/x\.png: not a PNG/);
  });
});

