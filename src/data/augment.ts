/**
 * Training augmentations for detection and segmentation samples (mmdetection / mmsegmentation
 * pipelines): keep-ratio resize into a (long, short) scale chosen from a list or scaled by a random
 * ratio (masks and label maps by nearest neighbour, boxes by the actual factors, then clipped),
 * horizontal flip, random crop with `cat_max_ratio` (segmentation), photometric distortion.
 */
import { resizeRgb } from '../io/image.js';
import { flipRgb, type RgbImage } from '../image/rgb.js';
import { resizedSize } from '../image/sizes.js';
import type { TrainRng } from './rng.js';

/** A detection sample: image, boxes [G·4] (x1, y1, x2, y2), labels [G], masks (image-sized). */
export interface DetSample {
  image: RgbImage;
  boxes: Float32Array;
  labels: Int32Array;
  masks: Uint8Array[];
}

/** A segmentation sample: image and per-pixel labels (image-sized, 255 = ignored). */
export interface SegTrainSample {
  image: RgbImage;
  labels: Uint8Array;
}

/** How the resize scale is chosen: one of `scales` at random, times a random ratio from `ratioRange`. */
export interface ScaleOptions {
  /** (long, short) scales. */
  scales: ReadonlyArray<readonly [number, number]>;
  ratioRange?: readonly [number, number];
}

/** Draws a (long, short) scale (mmcv `Resize` with multiscale_mode 'value', or mmseg's ratio_range). */
export function drawScale(o: ScaleOptions, rng: TrainRng): [number, number] {
  const s = o.scales.length === 1 ? o.scales[0] : o.scales[rng.int(0, o.scales.length - 1)];
  if (!o.ratioRange) return [s[0], s[1]];
  const r = rng.uniform(o.ratioRange[0], o.ratioRange[1]);
  return [Math.trunc(s[0] * r), Math.trunc(s[1] * r)];
}

/** Nearest-neighbour resize of a one-byte-per-pixel map (OpenCV INTER_NEAREST: source floor(dst · in / out)). */
export function resizeNearest(src: Uint8Array, w: number, h: number, nw: number, nh: number): Uint8Array {
  if (w === nw && h === nh) return src;
  const out = new Uint8Array(nw * nh);
  const xs = Int32Array.from({ length: nw }, (_, x) => Math.min(w - 1, Math.floor((x * w) / nw)));
  for (let y = 0; y < nh; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / nh));
    const row = sy * w;
    for (let x = 0; x < nw; x++) out[y * nw + x] = src[row + xs[x]];
  }
  return out;
}

/** Mirrors a one-byte-per-pixel map left-right. */
export function flipMap(src: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + (w - 1 - x)] = src[y * w + x];
  return out;
}

/** Keep-ratio resize of a detection sample into `scale` (mmcv `rescale_size`). */
export async function resizeDet(s: DetSample, scale: readonly [number, number]): Promise<DetSample> {
  const { width: w, height: h } = s.image;
  const [nh, nw] = resizedSize(h, w, scale, 'round');
  if (nh === h && nw === w) return s;
  const sx = nw / w;
  const sy = nh / h;
  const boxes = new Float32Array(s.boxes.length);
  for (let i = 0; i < s.boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(s.boxes[i] * sx, 0), nw);
    boxes[i + 1] = Math.min(Math.max(s.boxes[i + 1] * sy, 0), nh);
    boxes[i + 2] = Math.min(Math.max(s.boxes[i + 2] * sx, 0), nw);
    boxes[i + 3] = Math.min(Math.max(s.boxes[i + 3] * sy, 0), nh);
  }
  return { image: await resizeRgb(s.image, nw, nh), boxes, labels: s.labels, masks: s.masks.map((m) => resizeNearest(m, w, h, nw, nh)) };
}

/** Horizontal flip of a detection sample (boxes: x1' = w − x2, x2' = w − x1, as mmdetection). */
export function flipDet(s: DetSample): DetSample {
  const { width: w, height: h } = s.image;
  const boxes = new Float32Array(s.boxes.length);
  for (let i = 0; i < s.boxes.length; i += 4) {
    boxes[i] = w - s.boxes[i + 2];
    boxes[i + 1] = s.boxes[i + 1];
    boxes[i + 2] = w - s.boxes[i];
    boxes[i + 3] = s.boxes[i + 3];
  }
  return { image: flipRgb(s.image), boxes, labels: s.labels, masks: s.masks.map((m) => flipMap(m, w, h)) };
}

/** Drops objects whose box became narrower or shorter than `minSide` (e.g. after a crop). */
export function dropTinyObjects(s: DetSample, minSide = 1): DetSample {
  const keep: number[] = [];
  for (let i = 0; i < s.labels.length; i++) {
    if (s.boxes[4 * i + 2] - s.boxes[4 * i] >= minSide && s.boxes[4 * i + 3] - s.boxes[4 * i + 1] >= minSide) keep.push(i);
  }
  if (keep.length === s.labels.length) return s;
  const boxes = new Float32Array(4 * keep.length);
  keep.forEach((k, j) => boxes.set(s.boxes.subarray(4 * k, 4 * k + 4), 4 * j));
  return { image: s.image, boxes, labels: Int32Array.from(keep, (k) => s.labels[k]), masks: keep.map((k) => s.masks[k]) };
}

/** Keep-ratio resize of a segmentation sample (labels by nearest neighbour). */
export async function resizeSeg(s: SegTrainSample, scale: readonly [number, number]): Promise<SegTrainSample> {
  const { width: w, height: h } = s.image;
  const [nh, nw] = resizedSize(h, w, scale, 'round');
  if (nh === h && nw === w) return s;
  return { image: await resizeRgb(s.image, nw, nh), labels: resizeNearest(s.labels, w, h, nw, nh) };
}

/** Horizontal flip of a segmentation sample. */
export function flipSeg(s: SegTrainSample): SegTrainSample {
  return { image: flipRgb(s.image), labels: flipMap(s.labels, s.image.width, s.image.height) };
}

function cropMap(src: Uint8Array, w: number, x0: number, y0: number, cw: number, ch: number, channels: number): Uint8Array {
  const out = new Uint8Array(cw * ch * channels);
  for (let y = 0; y < ch; y++) out.set(src.subarray(((y0 + y) * w + x0) * channels, ((y0 + y) * w + x0 + cw) * channels), y * cw * channels);
  return out;
}

/**
 * mmseg `RandomCrop`: a window of at most `crop` = [height, width] at a random offset; with
 * `catMaxRatio` < 1, up to ten tries for a window where no class covers more than that share of
 * the non-ignored pixels (and more than one class is present).
 */
export function randomCropSeg(s: SegTrainSample, crop: readonly [number, number], rng: TrainRng, catMaxRatio = 1, ignoreIndex = 255): SegTrainSample {
  const { width: w, height: h } = s.image;
  const ch = Math.min(crop[0], h);
  const cw = Math.min(crop[1], w);
  const draw = (): [number, number] => [rng.int(0, h - ch), rng.int(0, w - cw)];
  let [y0, x0] = draw();
  if (catMaxRatio < 1) {
    for (let t = 0; t < 10; t++) {
      const counts = new Map<number, number>();
      for (let y = y0; y < y0 + ch; y++) {
        for (let x = x0; x < x0 + cw; x++) {
          const v = s.labels[y * w + x];
          if (v !== ignoreIndex) counts.set(v, (counts.get(v) ?? 0) + 1);
        }
      }
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      if (counts.size > 1 && Math.max(...counts.values()) / total < catMaxRatio) break;
      [y0, x0] = draw();
    }
  }
  if (ch === h && cw === w) return s;
  return {
    image: { width: cw, height: ch, data: cropMap(s.image.data, w, x0, y0, cw, ch, 3) },
    labels: cropMap(s.labels, w, x0, y0, cw, ch, 1),
  };
}
