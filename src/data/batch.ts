/**
 * Batching: samples of different sizes are padded at the bottom and right to the largest height
 * and width of the batch, rounded up to a multiple of `sizeDivisor` (or to a fixed size), into one
 * normalised NCHW tensor (pad value 0 after normalisation, as mmdetection / mmsegmentation);
 * segmentation labels are padded with the ignore index.
 */
import type { HostTensor } from '../core/host-tensor.js';
import type { GtInstances } from './instances.js';
import type { DetSample, SegTrainSample } from './augment.js';

/** A collated detection batch. */
export interface DetBatch {
  /** [N, 3, H, W] normalised, padded. */
  images: HostTensor;
  /** Valid [height, width] of each image. */
  sizes: Array<[number, number]>;
  gts: GtInstances[];
}

/** A collated segmentation batch. */
export interface SegBatch {
  images: HostTensor;
  /** [N, H, W] labels, ignore index in the padding. */
  labels: { shape: [number, number, number]; data: Int32Array };
}

/** Padded size of a batch: the largest sides, rounded up to `divisor` (at least `min`). */
export function paddedSize(sizes: ReadonlyArray<readonly [number, number]>, divisor: number, min: readonly [number, number] = [0, 0]): [number, number] {
  const h = Math.max(min[0], ...sizes.map((s) => s[0]));
  const w = Math.max(min[1], ...sizes.map((s) => s[1]));
  return [Math.ceil(h / divisor) * divisor, Math.ceil(w / divisor) * divisor];
}

function normaliseInto(out: Float32Array, n: number, hp: number, wp: number, img: { width: number; height: number; data: Uint8Array }, mean: readonly number[], std: readonly number[]): void {
  for (let c = 0; c < 3; c++) {
    const plane = (n * 3 + c) * hp * wp;
    const m = mean[c];
    const s = 1 / std[c];
    for (let y = 0; y < img.height; y++) {
      let src = y * img.width * 3 + c;
      const row = plane + y * wp;
      for (let x = 0; x < img.width; x++, src += 3) out[row + x] = (img.data[src] - m) * s;
    }
  }
}

/** Collates detection samples. */
export function collateDet(samples: readonly DetSample[], mean: readonly number[], std: readonly number[], sizeDivisor: number): DetBatch {
  const sizes = samples.map((s) => [s.image.height, s.image.width] as [number, number]);
  const [hp, wp] = paddedSize(sizes, sizeDivisor);
  const data = new Float32Array(samples.length * 3 * hp * wp);
  samples.forEach((s, i) => normaliseInto(data, i, hp, wp, s.image, mean, std));
  return {
    images: { shape: [samples.length, 3, hp, wp], data },
    sizes,
    gts: samples.map((s) => ({ boxes: s.boxes, labels: s.labels, masks: s.masks, maskHeight: s.image.height, maskWidth: s.image.width })),
  };
}

/** Collates segmentation samples, padding to at least `minSize` (the crop size). */
export function collateSeg(samples: readonly SegTrainSample[], mean: readonly number[], std: readonly number[], sizeDivisor: number, minSize: readonly [number, number], ignoreIndex: number): SegBatch {
  const [hp, wp] = paddedSize(samples.map((s) => [s.image.height, s.image.width] as [number, number]), sizeDivisor, minSize);
  const data = new Float32Array(samples.length * 3 * hp * wp);
  const labels = new Int32Array(samples.length * hp * wp).fill(ignoreIndex);
  samples.forEach((s, i) => {
    normaliseInto(data, i, hp, wp, s.image, mean, std);
    for (let y = 0; y < s.image.height; y++) {
      for (let x = 0; x < s.image.width; x++) labels[(i * hp + y) * wp + x] = s.labels[y * s.image.width + x];
    }
  });
  return { images: { shape: [samples.length, 3, hp, wp], data }, labels: { shape: [samples.length, hp, wp], data: labels } };
}
