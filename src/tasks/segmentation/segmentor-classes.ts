/** The classes present in a label map, their share of its pixels, and the colours of an overlay (Node and browsers alike). */
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

/**
 * Blends each pixel's class colour into a W × H picture (`channels` 3 or 4 bytes per pixel):
 * out = base·(1 − opacity) + colour·opacity, the label of overlay pixel (X, Y) being the label map's
 * at (⌊X / scale⌋, ⌊Y / scale⌋). `out` may be `base`.
 */
export function blendLabels(
  base: ArrayLike<number>, out: Uint8Array | Uint8ClampedArray, channels: 3 | 4, labels: Labels,
  palette: ReadonlyArray<readonly [number, number, number]>, scale: number, W: number, H: number, opacity: number,
): void {
  for (let Y = 0; Y < H; Y++) {
    const y = Math.min(labels.height - 1, Math.floor(Y / scale));
    for (let X = 0; X < W; X++) {
      const x = Math.min(labels.width - 1, Math.floor(X / scale));
      const c = palette[labels.data[y * labels.width + x]] ?? [0, 0, 0];
      const p = channels * (Y * W + X);
      for (let k = 0; k < 3; k++) out[p + k] = Math.round(base[p + k] * (1 - opacity) + c[k] * opacity);
    }
  }
}
