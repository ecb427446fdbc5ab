/**
 * Overlay of detections on the image, drawn at ≥ 512 px on the long side (small inputs upscaled):
 * each instance's mask as a translucent fill in its class colour with a contour in a darker shade,
 * its box outlined, and a label "class score" placed so that labels stay inside the image and do
 * not overlap each other (SVG composited by sharp). PNG out.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../image/rgb.js';
import type { DetectionResult } from './detector-predict.js';
import { escapeXml } from '../../image/xml.js';
import { classColor, overlayLayout, paintMasks, type Rgb } from './detector-overlay-layout.js';

const hex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Draws `result` over `img` (same size as the result); returns PNG bytes. */
export async function renderOverlay(img: RgbImage, result: DetectionResult, opts: { alpha?: number } = {}): Promise<Buffer> {
  const alpha = opts.alpha ?? 0.4;
  const L = overlayLayout(result);
  const { width: W, height: H, scale: s } = L;
  const base = s === 1 ? Buffer.from(img.data)
    : await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(W, H, { kernel: 'cubic' }).raw().toBuffer();
  const px = new Uint8Array(base);
  paintMasks(px, 3, result, s, W, H, alpha);
  const order = result.instances.map((_, k) => k).reverse();
  const thick = Math.max(2, Math.round(Math.min(W, H) / 250));
  const parts: string[] = [];
  for (const k of order) {
    const ins = result.instances[k];
    const [x1, y1, x2, y2] = ins.box.map((v) => v * s);
    const col = hex(classColor(ins.label));
    const r = L.labels[k];
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(x2 - x1, 0).toFixed(1)}" height="${Math.max(y2 - y1, 0).toFixed(1)}" fill="none" stroke="${col}" stroke-width="${thick}"/>`,
      `<rect x="${r.x}" y="${r.y}" width="${r.w}" height="${r.h}" fill="${col}" fill-opacity="0.85"/>`,
      `<text x="${r.x + 3}" y="${r.y + r.h - 4}" font-family="sans-serif" font-size="${L.font}" fill="#000">${escapeXml(L.texts[k])}</text>`,
    );
  }
  const svg = Buffer.from(`<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`);
  return sharp(px, { raw: { width: W, height: H, channels: 3 } }).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}
