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
import { escapeXml } from '../../image/xml.js';
import { blendLabels, classShares, SEG_OVERLAY_MIN_SIDE } from './segmentor-classes.js';


/** The label map as a grayscale PNG (8-bit up to 256 classes, else 16-bit). */
export function labelPng(labels: Labels): Buffer {
  return encodeLabelPng(labels);
}



/**
 * The image with each pixel's class colour blended in (image·(1 − opacity) + colour·opacity), at
 * ≥ 512 px on the long side, with a legend panel on the right when `classNames` are given: per
 * class present, most pixels first, its colour, name and share of the image.
 */
export async function overlayPng(img: RgbImage, labels: Labels, palette: readonly Rgb[], opacity = 0.5, classNames?: readonly string[]): Promise<Buffer> {
  if (img.width !== labels.width || img.height !== labels.height) {
    throw new Error(`overlay: image ${img.width}x${img.height} but labels ${labels.width}x${labels.height}`);
  }
  const scale = Math.max(1, SEG_OVERLAY_MIN_SIDE / Math.max(img.width, img.height));
  const W = Math.round(img.width * scale);
  const H = Math.round(img.height * scale);
  const base = scale === 1 ? img.data
    : new Uint8Array(await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(W, H, { kernel: 'cubic' }).raw().toBuffer());
  const out = Buffer.alloc(W * H * 3);
  blendLabels(base, out, 3, labels, palette, scale, W, H, opacity);
  const picture = sharp(out, { raw: { width: W, height: H, channels: 3 } });
  if (!classNames) return picture.png().toBuffer();
  const font = Math.max(12, Math.round(H / 32));
  const row = Math.round(font * 1.5);
  const shares = classShares(labels, classNames);
  const rows = Math.max(1, Math.min(shares.length, Math.floor((H - row) / row)));
  const texts = shares.slice(0, rows).map((c) => `${c.name} ${(100 * c.fraction).toFixed(1)}%`);
  const panel = Math.ceil(Math.max(...texts.map((t) => t.length), 8) * font * 0.6 + row + 3 * font);
  const items = shares.slice(0, rows).map((c, i) => {
    const [r, g, b] = palette[c.index] ?? [0, 0, 0];
    const y = font + i * row;
    return `<rect x="${W + font}" y="${y}" width="${font}" height="${font}" fill="rgb(${r},${g},${b})" stroke="#333"/>`
      + `<text x="${W + 2.5 * font}" y="${y + font - 2}" font-family="sans-serif" font-size="${font}" fill="#000">${escapeXml(texts[i])}</text>`;
  });
  const more = shares.length > rows ? `<text x="${W + font}" y="${font + rows * row + font}" font-family="sans-serif" font-size="${font}" fill="#555">+${shares.length - rows} more</text>` : '';
  const svg = Buffer.from(`<svg width="${W + panel}" height="${H}" xmlns="http://www.w3.org/2000/svg">${items.join('')}${more}</svg>`);
  return picture.extend({ right: panel, background: { r: 255, g: 255, b: 255 } }).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}
