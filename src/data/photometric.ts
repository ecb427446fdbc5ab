/**
 * Photometric distortion as mmdetection / mmsegmentation's `PhotoMetricDistortion`: each step with
 * probability ½ — brightness (add δ ∈ [−32, 32]), contrast (× α ∈ [0.5, 1.5]) either first or last,
 * saturation (× α ∈ [0.5, 1.5] in HSV) and hue (shift ∈ [−18, 18] OpenCV units, i.e. ±36°) — with
 * values clipped to 0…255 after each step, as mmseg's `convert`.
 */
import type { RgbImage } from '../image/rgb.js';
import type { TrainRng } from './rng.js';

export interface PhotometricOptions {
  brightnessDelta: number;
  contrastRange: readonly [number, number];
  saturationRange: readonly [number, number];
  /** In OpenCV's 8-bit hue units (half degrees). */
  hueDelta: number;
}

export const PHOTOMETRIC_DEFAULTS: PhotometricOptions = { brightnessDelta: 32, contrastRange: [0.5, 1.5], saturationRange: [0.5, 1.5], hueDelta: 18 };

function clip(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function affine(px: Float32Array, alpha: number, beta: number): void {
  for (let i = 0; i < px.length; i++) px[i] = Math.trunc(clip(px[i] * alpha + beta));
}

/** Saturation scale and hue shift (degrees) through HSV, in place. */
function hsvAdjust(px: Float32Array, satScale: number, hueShift: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i] / 255;
    const g = px[i + 1] / 255;
    const b = px[i + 2] / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = max - min;
    let h = 0;
    if (d > 0) {
      if (max === r) h = 60 * (((g - b) / d) % 6);
      else if (max === g) h = 60 * ((b - r) / d + 2);
      else h = 60 * ((r - g) / d + 4);
    }
    let s = max === 0 ? 0 : d / max;
    const v = max;
    s = Math.min(1, s * satScale);
    h = (((h + hueShift) % 360) + 360) % 360;
    const c = v * s;
    const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
    const m = v - c;
    const [rr, gg, bb] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
    px[i] = Math.round((rr + m) * 255);
    px[i + 1] = Math.round((gg + m) * 255);
    px[i + 2] = Math.round((bb + m) * 255);
  }
}

/** A distorted copy of `img` (draws from `rng` in mmseg's order). */
export function photometricDistort(img: RgbImage, rng: TrainRng, o: PhotometricOptions = PHOTOMETRIC_DEFAULTS): RgbImage {
  const px = Float32Array.from(img.data);
  const coin = () => rng.next() < 0.5;
  if (coin()) affine(px, 1, rng.uniform(-o.brightnessDelta, o.brightnessDelta));
  const contrastFirst = coin();
  const contrast = () => {
    if (coin()) affine(px, rng.uniform(o.contrastRange[0], o.contrastRange[1]), 0);
  };
  if (contrastFirst) contrast();
  const sat = coin() ? rng.uniform(o.saturationRange[0], o.saturationRange[1]) : 1;
  const hue = coin() ? 2 * rng.int(-o.hueDelta, o.hueDelta) : 0;
  if (sat !== 1 || hue !== 0) hsvAdjust(px, sat, hue);
  if (!contrastFirst) contrast();
  return { width: img.width, height: img.height, data: Uint8Array.from(px, clip) };
}
