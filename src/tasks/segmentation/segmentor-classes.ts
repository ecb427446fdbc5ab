/** The classes present in a label map and their share of its pixels (Node and browsers alike). */
import type { Labels } from './segmentor-logits.js';

/** Long side of a segmentation overlay's picture at least this (smaller images are upscaled, labels by nearest neighbour). */
export const SEG_OVERLAY_MIN_SIDE = 512;

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
