/**
 * Overlay of detections on the image: each instance's mask blended in its colour, its box
 * outlined, and a label "class score" above the box (SVG text composited by sharp). PNG out.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../image/rgb.js';
import type { DetectionResult } from './detector-predict.js';

type Rgb = readonly [number, number, number];

/** A well-spread colour per class (golden-angle hues, full saturation). */
export function classColor(label: number): Rgb {
  const h = (label * 137.508) % 360;
  const x = 1 - Math.abs(((h / 60) % 2) - 1);
  const [r, g, b] = h < 60 ? [1, x, 0] : h < 120 ? [x, 1, 0] : h < 180 ? [0, 1, x] : h < 240 ? [0, x, 1] : h < 300 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(r * 230 + 25), Math.round(g * 230 + 25), Math.round(b * 230 + 25)];
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Draws `result` over `img` (same size as the result); returns PNG bytes. */
export async function renderOverlay(img: RgbImage, result: DetectionResult, opts: { alpha?: number } = {}): Promise<Buffer> {
  const alpha = opts.alpha ?? 0.45;
  const { width: w, height: h } = img;
  const px = new Uint8Array(img.data);
  // Lowest score first, so the best instance is drawn on top.
  const order = [...result.instances].reverse();
  for (const ins of order) {
    const c = classColor(ins.label);
    const m = ins.mask;
    for (let j = 0; j < m.height; j++) {
      for (let i = 0; i < m.width; i++) {
        if (!m.data[j * m.width + i]) continue;
        const p = ((m.y0 + j) * w + m.x0 + i) * 3;
        for (let k = 0; k < 3; k++) px[p + k] = Math.round(px[p + k] * (1 - alpha) + c[k] * alpha);
      }
    }
  }
  const thick = Math.max(1, Math.round(Math.min(w, h) / 300));
  const font = Math.max(10, Math.round(Math.min(w, h) / 45));
  const parts: string[] = [];
  for (const ins of order) {
    const [x1, y1, x2, y2] = ins.box;
    const hex = `#${classColor(ins.label).map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    const label = escapeXml(`${ins.className} ${ins.score.toFixed(2)}`);
    const ty = Math.max(font, y1 - 2);
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(x2 - x1, 0).toFixed(1)}" height="${Math.max(y2 - y1, 0).toFixed(1)}" fill="none" stroke="${hex}" stroke-width="${thick}"/>`,
      `<rect x="${x1.toFixed(1)}" y="${(ty - font).toFixed(1)}" width="${(label.length * font * 0.6 + 4).toFixed(1)}" height="${(font + 3).toFixed(1)}" fill="${hex}" fill-opacity="0.8"/>`,
      `<text x="${(x1 + 2).toFixed(1)}" y="${(ty - 1).toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="#000">${label}</text>`,
    );
  }
  const svg = Buffer.from(`<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`);
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}
