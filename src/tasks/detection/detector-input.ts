/**
 * Detection preprocessing: keep-ratio resize into (long, short) as mmcv's `rescale_size` (new
 * side = int(side · scale + 0.5)) or torchvision's GeneralizedRCNNTransform (floor, float32
 * scale), normalisation on the 0–255 scale, zero padding at the bottom and right to a multiple
 * of `size_divisor`. Pixels are resized bilinearly with OpenCV's INTER_LINEAR sampling rule
 * (mmcv's `imresize`), in plain TypeScript so that Node and browsers feed the network the same
 * input.
 */
import type { HostTensor } from '../../core/host-tensor.js';
import { resizedSize } from '../../image/sizes.js';
import { resizeRgbBilinear } from '../../image/resize.js';
import { type RgbImage, toTensor } from '../../image/rgb.js';

/** The input settings a detector reads. */
export interface DetInputOptions {
  mean: readonly number[];
  std: readonly number[];
  /** (long, short) or null (no resize). */
  scale: readonly [number, number] | null;
  rounding: 'round' | 'floor';
  sizeDivisor: number;
}

/** A preprocessed image and what is needed to map results back to it. */
export interface DetInput {
  /** Normalised, padded [1, 3, Hp, Wp]. */
  tensor: HostTensor;
  /** Resized (valid) height and width inside the padding. */
  size: [number, number];
  /** Original height and width. */
  original: [number, number];
}

/** Preprocesses decoded RGB pixels for a detector. */
export function detectionInput(img: RgbImage, o: DetInputOptions): DetInput {
  const [h, w] = resizedSize(img.height, img.width, o.scale, o.rounding);
  const resized = resizeRgbBilinear(img, w, h);
  return { tensor: toTensor(resized, o.mean, o.std, o.sizeDivisor), size: [h, w], original: [img.height, img.width] };
}

/**
 * Maps a box [x1, y1, x2, y2] from the resized image back to the original: divided by the scale
 * factors new / old (mmdetection) or multiplied by old / new in float32 (torchvision).
 */
export function rescaleBox(box: readonly number[], input: DetInput, rounding: 'round' | 'floor'): [number, number, number, number] {
  const [h, w] = input.size;
  const [oh, ow] = input.original;
  const f = Math.fround;
  if (rounding === 'round') {
    const sx = f(w / ow);
    const sy = f(h / oh);
    return [f(box[0] / sx), f(box[1] / sy), f(box[2] / sx), f(box[3] / sy)];
  }
  const rx = f(ow / w);
  const ry = f(oh / h);
  return [f(box[0] * rx), f(box[1] * ry), f(box[2] * rx), f(box[3] * ry)];
}

/**
 * Pads preprocessed images into one batch [N, 3, H, W] (H, W: the largest padded height and
 * width; zeros below and right of each image, as mmdetection's collate).
 */
export function collateInputs(inputs: readonly DetInput[]): HostTensor {
  if (inputs.length === 0) throw new Error('detector: an empty batch');
  const c = inputs[0].tensor.shape[1];
  const h = Math.max(...inputs.map((i) => i.tensor.shape[2]));
  const w = Math.max(...inputs.map((i) => i.tensor.shape[3]));
  const data = new Float32Array(inputs.length * c * h * w);
  inputs.forEach((input, n) => {
    const [, , ih, iw] = input.tensor.shape;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < ih; y++) {
        const src = (ch * ih + y) * iw;
        data.set(input.tensor.data.subarray(src, src + iw), ((n * c + ch) * h + y) * w);
      }
    }
  });
  return { shape: [inputs.length, c, h, w], data };
}
