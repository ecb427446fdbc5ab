/**
 * Segmentation overlays: the picture is at least 512 px on its long side (labels upscaled by
 * nearest neighbour, so a class region keeps its colour) and, with class names, a legend panel is
 * added on the right.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { overlayPng } from '../../../src/tasks/segmentation/segmentor-output.js';
import { SEG_OVERLAY_MIN_SIDE } from '../../../src/tasks/segmentation/segmentor-classes.js';

describe('segmentation overlay', () => {
  it('upscales to 512 px, blends class colours, and adds a legend to the right', async () => {
    const [w, h] = [40, 30];
    const img = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(100) };
    // Left half class 0, right half class 1.
    const labels = { width: w, height: h, data: Uint16Array.from({ length: w * h }, (_, i) => (i % w < w / 2 ? 0 : 1)) };
    const palette = [[0, 0, 0], [255, 0, 0]] as const;
    const plain = await sharp(await overlayPng(img, labels, palette, 0.5)).raw().toBuffer({ resolveWithObject: true });
    expect([plain.info.width, plain.info.height]).toEqual([SEG_OVERLAY_MIN_SIDE, 384]);
    const at = (x: number, y: number) => Array.from(plain.data.subarray(3 * (y * plain.info.width + x), 3 * (y * plain.info.width + x) + 3));
    expect(at(10, 10)).toEqual([50, 50, 50]);
    expect(at(500, 300)).toEqual([178, 50, 50]);
    const legend = await sharp(await overlayPng(img, labels, palette, 0.5, ['floor', 'wall'])).metadata();
    expect(legend.height).toBe(384);
    expect(legend.width!).toBeGreaterThan(SEG_OVERLAY_MIN_SIDE + 50);
  });
});
