/**
 * Drawing results on a canvas, as the PNG overlays of `convnext detect` and `convnext segment`:
 * detections at ≥ 512 px on the long side with translucent masks, contours, boxes and labels
 * placed by the shared layout; segmentations as palette colours blended into the image.
 */
import type { RgbImage } from '../image/rgb.js';
import { classColor, overlayLayout, paintMasks, type Rgb } from '../tasks/detection/detector-overlay-layout.js';
import type { DetectionResult } from '../tasks/detection/detector-predict.js';
import type { Labels } from '../tasks/segmentation/segmentor-logits.js';
import { blendLabels, SEG_OVERLAY_MIN_SIDE } from '../tasks/segmentation/segmentor-classes.js';

const css = (c: Rgb, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;

function context(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  return ctx;
}

/** RGB pixels as canvas ImageData (opaque). */
function imageData(img: RgbImage): ImageData {
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, n = img.width * img.height; i < n; i++) {
    rgba[4 * i] = img.data[3 * i];
    rgba[4 * i + 1] = img.data[3 * i + 1];
    rgba[4 * i + 2] = img.data[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
  return new ImageData(rgba, img.width, img.height);
}

/** The image drawn scaled to width × height (smooth). */
function drawScaled(ctx: CanvasRenderingContext2D, img: RgbImage, width: number, height: number): void {
  const src = new OffscreenCanvas(img.width, img.height);
  src.getContext('2d')?.putImageData(imageData(img), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, width, height);
}

/** Draws `img` and its detections on `canvas`: masks (best on top), boxes and labels. */
export function drawDetections(canvas: HTMLCanvasElement, img: RgbImage, result: DetectionResult, alpha = 0.4): void {
  const L = overlayLayout(result);
  const { width: W, height: H, scale: s } = L;
  const ctx = context(canvas, W, H);
  drawScaled(ctx, img, W, H);
  const px = ctx.getImageData(0, 0, W, H);
  paintMasks(px.data, 4, result, s, W, H, alpha);
  ctx.putImageData(px, 0, 0);
  ctx.lineWidth = Math.max(2, Math.round(Math.min(W, H) / 250));
  ctx.font = `${L.font}px sans-serif`;
  ctx.textBaseline = 'alphabetic';
  const order = result.instances.map((_, k) => k).reverse();
  for (const k of order) {
    const ins = result.instances[k];
    const [x1, y1, x2, y2] = ins.box.map((v) => v * s);
    const col = classColor(ins.label);
    const r = L.labels[k];
    ctx.strokeStyle = css(col);
    ctx.strokeRect(x1, y1, Math.max(x2 - x1, 0), Math.max(y2 - y1, 0));
    ctx.fillStyle = css(col, 0.85);
    ctx.fillRect(r.x, r.y, r.w, r.h);
    ctx.fillStyle = '#000';
    ctx.fillText(L.texts[k], r.x + 3, r.y + r.h - 4);
  }
}

/** Draws `img` with each pixel's class colour blended in (image·(1 − opacity) + colour·opacity), at ≥ 512 px on the long side. */
export function drawLabels(canvas: HTMLCanvasElement, img: RgbImage, labels: Labels, palette: readonly Rgb[], opacity = 0.5): void {
  const scale = Math.max(1, SEG_OVERLAY_MIN_SIDE / Math.max(img.width, img.height));
  const W = Math.round(img.width * scale);
  const H = Math.round(img.height * scale);
  const ctx = context(canvas, W, H);
  drawScaled(ctx, img, W, H);
  const px = ctx.getImageData(0, 0, W, H);
  blendLabels(px.data, px.data, 4, labels, palette, scale, W, H, opacity);
  ctx.putImageData(px, 0, 0);
}

/** A colour as CSS. */
export const cssColor = css;
