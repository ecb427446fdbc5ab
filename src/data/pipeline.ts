/**
 * Training pipelines (config + the per-sample steps): decode with sharp, then for detection
 * mmdetection's Resize (keep ratio, one of several scales) → RandomFlip → optional
 * PhotoMetricDistortion; for segmentation mmsegmentation's Resize (random ratio of a scale) →
 * RandomCrop (cat_max_ratio) → RandomFlip → PhotoMetricDistortion. Each sample's randomness comes
 * from its own generator, so a sample is the same whichever worker or order produces it.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { imageSide } from '../config/input.js';
import { readRgb } from '../io/image.js';
import type { TrainRng } from './rng.js';
import { type DetSample, drawScale, dropTinyObjects, flipDet, flipSeg, randomCropSeg, resizeDet, resizeSeg, type SegTrainSample } from './augment.js';
import { type DetRecord, objectMask } from './coco-train.js';
import { photometricDistort } from './photometric.js';
import { readTrainLabels, type SegSample } from './seg-folder.js';

const posInt = z.number().int().positive();
const hw = z.tuple([imageSide, imageSide]);
const frac = z.number().min(0).max(1);
const ratio = z.tuple([z.number().positive().max(8), z.number().positive().max(8)]).refine((r) => r[0] <= r[1], { message: 'ratio_range must be [low, high] with low ≤ high' });

/** Detection pipeline (mmdetection train pipeline values). */
export const detPipelineSchema = z
  .object({
    /** (long, short) scales; with several, each image takes one at random (multi-scale training). */
    scales: z.array(hw).min(1).default([[1333, 800]]),
    /** Multiply the chosen scale by a ratio drawn from this range. */
    ratio_range: ratio.optional(),
    flip_prob: frac.default(0.5),
    photometric: z.boolean().default(false),
    /** Pad batches to a multiple of this. */
    size_divisor: posInt.default(32),
  })
  .strict();

/** Segmentation pipeline (mmsegmentation train pipeline values). */
export const segPipelineSchema = z
  .object({
    /** (long, short) image scale before the random ratio (mmseg `img_scale`). */
    scale: hw.default([2048, 512]),
    ratio_range: ratio.default([0.5, 2.0]),
    /** Random crop [height, width]; batches are padded to it (labels with the ignore index). */
    crop_size: hw.default([512, 512]),
    cat_max_ratio: frac.default(0.75),
    flip_prob: frac.default(0.5),
    photometric: z.boolean().default(true),
    size_divisor: posInt.default(32),
  })
  .strict();

export type DetPipeline = z.output<typeof detPipelineSchema>;
export type SegPipeline = z.output<typeof segPipelineSchema>;

/** Reads and augments one detection record. */
export async function loadDetSample(r: DetRecord, p: DetPipeline, rng: TrainRng): Promise<DetSample> {
  const image = await readRgb(r.file);
  if (image.width !== r.width || image.height !== r.height) {
    throw new UserError(`${r.file}: image is ${image.width}x${image.height} but its annotation says ${r.width}x${r.height}`);
  }
  let s: DetSample = {
    image,
    boxes: Float32Array.from(r.objects.flatMap((o) => o.box)),
    labels: Int32Array.from(r.objects.map((o) => o.label)),
    masks: r.objects.map((o) => objectMask(o, image.height, image.width)),
  };
  s = await resizeDet(s, drawScale({ scales: p.scales, ratioRange: p.ratio_range }, rng));
  if (rng.next() < p.flip_prob) s = flipDet(s);
  if (p.photometric) s = { ...s, image: photometricDistort(s.image, rng) };
  return dropTinyObjects(s);
}

/** Reads and augments one segmentation sample (labels mapped as the config's dataset says). */
export async function loadSegSample(
  sample: SegSample, p: SegPipeline, d: { numClasses: number; ignoreIndex: number; reduceZeroLabel: boolean }, rng: TrainRng,
): Promise<SegTrainSample> {
  const image = await readRgb(sample.image);
  const labels = readTrainLabels(sample.annotation, d.numClasses, d.ignoreIndex, d.reduceZeroLabel);
  if (labels.width !== image.width || labels.height !== image.height) {
    throw new UserError(`${sample.annotation}: label map is ${labels.width}x${labels.height} but its image is ${image.width}x${image.height}`);
  }
  let s: SegTrainSample = await resizeSeg({ image, labels: labels.data }, drawScale({ scales: [p.scale], ratioRange: p.ratio_range }, rng));
  s = randomCropSeg(s, p.crop_size, rng, p.cat_max_ratio, d.ignoreIndex);
  if (rng.next() < p.flip_prob) s = flipSeg(s);
  if (p.photometric) s = { ...s, image: photometricDistort(s.image, rng) };
  return s;
}
