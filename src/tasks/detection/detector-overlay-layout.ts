/**
 * The geometry and colours of a detection overlay, shared by the PNG renderer (sharp) and the web
 * page (canvas): ≥ 512 px on the long side, one colour per class, labels placed inside the image
 * and clear of each other.
 */
import type { DetectionResult } from './detector-predict.js';

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** Long side of an overlay at least this (smaller images are upscaled). */
export const OVERLAY_MIN_SIDE = 512;

/** A well-spread colour per class (golden-angle hues, full saturation). */
export function classColor(label: number): Rgb {
  const h = (label * 137.508) % 360;
  const x = 1 - Math.abs(((h / 60) % 2) - 1);
  const [r, g, b] = h < 60 ? [1, x, 0] : h < 120 ? [x, 1, 0] : h < 180 ? [0, 1, x] : h < 240 ? [0, x, 1] : h < 300 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(r * 230 + 25), Math.round(g * 230 + 25), Math.round(b * 230 + 25)];
}


/** A rectangle in overlay pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Places one label per box (in the given order, best first): above the box, else inside its top,
 * else below it, else stepping down through the image; always inside the W × H image and clear of
 * the labels already placed where any free spot exists.
 */
export function placeLabels(boxes: ReadonlyArray<readonly [number, number, number, number]>, sizes: ReadonlyArray<readonly [number, number]>, W: number, H: number): Rect[] {
  const placed: Rect[] = [];
  boxes.forEach(([x1, y1, , y2], k) => {
    const [w, h] = [Math.min(sizes[k][0], W), Math.min(sizes[k][1], H)];
    const clampX = (x: number) => Math.min(Math.max(0, x), W - w);
    const clampY = (y: number) => Math.min(Math.max(0, y), H - h);
    const x = clampX(x1);
    const candidates: Rect[] = [y1 - h, y1, y2].map((y) => ({ x, y: clampY(y), w, h }));
    for (let y = 0; y + h <= H; y += Math.max(1, Math.round(h / 2))) candidates.push({ x, y, w, h });
    for (let y = 0; y + h <= H; y += Math.max(1, Math.round(h / 2))) for (let cx = 0; cx + w <= W; cx += Math.max(1, Math.round(w / 4))) candidates.push({ x: cx, y, w, h });
    placed.push(candidates.find((c) => placed.every((p) => !overlaps(c, p))) ?? candidates[0]);
  });
  return placed;
}

/** The geometry of an overlay: its scale, size and each instance's label rectangle (instances in result order). */
export function overlayLayout(result: DetectionResult): { scale: number; width: number; height: number; font: number; labels: Rect[]; texts: string[] } {
  const scale = Math.max(1, OVERLAY_MIN_SIDE / Math.max(result.width, result.height));
  const width = Math.round(result.width * scale);
  const height = Math.round(result.height * scale);
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const texts = result.instances.map((ins) => `${ins.className} ${ins.score.toFixed(2)}`);
  const sizes = texts.map((t) => [Math.ceil(t.length * font * 0.6 + 6), font + 4] as const);
  const boxes = result.instances.map((ins) => ins.box.map((v) => v * scale) as unknown as readonly [number, number, number, number]);
  return { scale, width, height, font, labels: placeLabels(boxes, sizes, width, height), texts };
}

/**
 * Paints each instance's mask into `px` (the overlay picture, `channels` 3 (RGB) or 4 (RGBA) bytes
 * per pixel, W × H = the layout's size): a translucent fill in its class colour with a contour in a
 * darker shade, lowest score first so the best is on top. Masks are sampled at overlay resolution
 * (nearest).
 */
export function paintMasks(px: Uint8Array | Uint8ClampedArray, channels: 3 | 4, result: DetectionResult, scale: number, W: number, H: number, alpha: number): void {
  const s = scale;
  for (let k = result.instances.length - 1; k >= 0; k--) {
    const ins = result.instances[k];
    const c = classColor(ins.label);
    const edge = c.map((v) => Math.round(v * 0.45));
    const m = ins.mask;
    const inside = (X: number, Y: number) => {
      const i = Math.floor(X / s) - m.x0;
      const j = Math.floor(Y / s) - m.y0;
      return i >= 0 && j >= 0 && i < m.width && j < m.height && m.data[j * m.width + i] !== 0;
    };
    const [X0, Y0] = [Math.max(0, Math.floor(m.x0 * s)), Math.max(0, Math.floor(m.y0 * s))];
    const [X1, Y1] = [Math.min(W, Math.ceil((m.x0 + m.width) * s)), Math.min(H, Math.ceil((m.y0 + m.height) * s))];
    for (let Y = Y0; Y < Y1; Y++) {
      for (let X = X0; X < X1; X++) {
        if (!inside(X, Y)) continue;
        const p = (Y * W + X) * channels;
        const contour = !inside(X - 1, Y) || !inside(X + 1, Y) || !inside(X, Y - 1) || !inside(X, Y + 1);
        for (let q = 0; q < 3; q++) px[p + q] = contour ? edge[q] : Math.round(px[p + q] * (1 - alpha) + c[q] * alpha);
      }
    }
  }
}
