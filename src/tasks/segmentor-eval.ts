/**
 * Semantic-segmentation evaluation data: a folder with `images/` and `annotations/` (the same
 * relative paths, annotations as PNG label maps, e.g. ADE20K's ADEChallengeData2016), read in
 * sorted order; and the loop that segments each image and accumulates mmseg's IoU statistics.
 */
import { isImageFile } from '../io/image-files.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { UserError } from '../core/errors.js';
import { MIoUAccumulator, type MIoUResult } from '../eval/miou.js';
import { readRgb } from '../io/image.js';
import type { SegmentOptions, SegmentorPredictor } from './segmentor-predict.js';
import { decodeLabelPng, type LabelImage } from './segmentor-png.js';


/** One evaluation sample: an image and its label map. */
export interface SegSample {
  image: string;
  annotation: string;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (isImageFile(e.name)) out.push(p);
  }
  return out;
}

/** Pairs every image under `<root>/images` with `<root>/annotations/<same path>.png`. */
export function listSegSamples(root: string): SegSample[] {
  const images = join(root, 'images');
  const annotations = join(root, 'annotations');
  for (const d of [images, annotations]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new UserError(`--data ${root}: expected folders images/ and annotations/ (${d} is missing)`);
  }
  const files = walk(images).sort();
  if (files.length === 0) throw new UserError(`--data ${root}: images/ holds no images`);
  return files.map((image) => {
    const rel = relative(images, image);
    const annotation = join(annotations, rel.slice(0, rel.length - extname(rel).length) + '.png');
    if (!existsSync(annotation)) throw new UserError(`${image}: no label map ${annotation}`);
    return { image, annotation };
  });
}

/** Reads a label map PNG (grayscale or palette; values are class ids). */
export function readLabelMap(file: string): LabelImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as Error).message})`);
  }
  return decodeLabelPng(bytes, file);
}

export interface SegEvalOptions extends SegmentOptions {
  /** Called after each image with the number done. */
  onProgress?: (done: number) => void;
}

/**
 * Segments every sample and accumulates intersections and unions (mmseg semantics: ignore
 * index, reduce_zero_label). A label map whose size differs from its image is an error.
 */
export async function evaluateSegmentation(predictor: SegmentorPredictor, samples: readonly SegSample[], opts: SegEvalOptions = {}): Promise<MIoUResult> {
  const cfg = predictor.model.config;
  const acc = new MIoUAccumulator(cfg.num_classes, {
    ignoreIndex: cfg.dataset.ignore_index,
    reduceZeroLabel: cfg.dataset.reduce_zero_label,
    classNames: predictor.model.classNames,
  });
  for (const [i, s] of samples.entries()) {
    const img = await readRgb(s.image);
    const gt = readLabelMap(s.annotation);
    if (gt.width !== img.width || gt.height !== img.height) {
      throw new UserError(`${s.annotation}: label map is ${gt.width}x${gt.height} but its image ${s.image} is ${img.width}x${img.height}`);
    }
    const pred = await predictor.predict(img, opts);
    acc.add(pred.labels, gt, s.annotation);
    opts.onProgress?.(i + 1);
  }
  return acc.compute();
}
