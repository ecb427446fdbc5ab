/**
 * What `convnext segment` writes per image: the label map (PNG, class index per pixel), a colour
 * overlay (palette colours blended into the image, as mmsegmentation's show_result with opacity
 * 0.5) and a JSON summary of class pixel fractions.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../image/rgb.js';
import type { Labels } from './segmentor-logits.js';
import { encodeLabelPng } from '../../io/label-png.js';
import type { Rgb } from './segmentor.js';

/** The label map as a grayscale PNG (8-bit up to 256 classes, else 16-bit). */
export function labelPng(labels: Labels): Buffer {
  return encodeLabelPng(labels);
}

/** The image with each pixel's class colour blended in: image·(1 − opacity) + colour·opacity. */
export async function overlayPng(img: RgbImage, labels: Labels, palette: readonly Rgb[], opacity = 0.5): Promise<Buffer> {
  if (img.width !== labels.width || img.height !== labels.height) {
    throw new Error(`overlay: image ${img.width}x${img.height} but labels ${labels.width}x${labels.height}`);
  }
  const out = Buffer.alloc(img.data.length);
  for (let i = 0; i < labels.data.length; i++) {
    const c = palette[labels.data[i]] ?? [0, 0, 0];
    for (let k = 0; k < 3; k++) out[3 * i + k] = Math.round(img.data[3 * i + k] * (1 - opacity) + c[k] * opacity);
  }
  return sharp(out, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}

/** One class present in a label map. */
export interface ClassShare {
  index: number;
  name: string;
  pixels: number;
  /** pixels / all pixels. */
  fraction: number;
}

/** Classes present in the label map, most pixels first. */
export function classShares(labels: Labels, classNames: readonly string[]): ClassShare[] {
  const counts = new Map<number, number>();
  for (const v of labels.data) counts.set(v, (counts.get(v) ?? 0) + 1);
  const total = labels.data.length;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .map(([index, pixels]) => ({ index, name: classNames[index] ?? `class_${index}`, pixels, fraction: +(pixels / total).toFixed(6) }));
}
