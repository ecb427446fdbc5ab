/**
 * The training data of a recipe: where a dataset's parts are (`--data`, `--val-data`), the
 * dataset loaded and checked, and the function that builds batch k (prefetched by the trainer).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { DetBatch, SegBatch } from '../data/batch.js';
import { collateDet, collateSeg } from '../data/batch.js';
import { loadDetDataset } from '../data/coco-train.js';
import { SampleStream } from '../data/loader.js';
import { loadDetSample, loadSegSample } from '../data/pipeline.js';
import { loadSegDataset } from '../data/seg-folder.js';
import { Detector } from '../tasks/detection/detector.js';
import type { TrainRecipe } from './config.js';
import type { DetDataPaths } from './evaluate.js';

/**
 * A detection dataset's annotation file and image folder: `path` is a folder with
 * annotations.json and images/ (as `convnext synth --task det` writes), or a COCO JSON file whose
 * images are in `images` (default: images/ next to it).
 */
export function detDataPaths(path: string, images?: string): DetDataPaths {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const annotations = join(path, 'annotations.json');
    if (!existsSync(annotations)) throw new UserError(`${path}: expected a COCO annotations.json in the folder (or pass the JSON file itself)`);
    return { annotations, images: images ?? join(path, 'images') };
  }
  return { annotations: path, images: images ?? join(dirname(path), 'images') };
}

/** A source of training batches. */
export interface TrainData<B> {
  /** Number of samples. */
  size: number;
  /** Builds batch `k` (deterministic in the recipe's seed and k). */
  batch(k: number): Promise<B>;
}

/** Detection training data of `recipe` from `paths`. */
export function detTrainData(recipe: TrainRecipe, paths: DetDataPaths): TrainData<DetBatch> {
  const cfg = recipe.model;
  if (cfg.type !== 'mask_rcnn' && cfg.type !== 'cascade_mask_rcnn') throw new Error('detTrainData needs a detector recipe');
  const classes = new Detector(cfg).classNames;
  const ds = loadDetDataset(paths.annotations, paths.images, classes, { requireMasks: false });
  const stream = new SampleStream(ds.records.length, recipe.seed);
  const b = recipe.batchSize;
  const p = recipe.detPipeline;
  return {
    size: ds.records.length,
    async batch(k) {
      const samples = await Promise.all(Array.from({ length: b }, (_, j) => {
        const pos = k * b + j;
        return loadDetSample(ds.records[stream.index(pos)], p, stream.rng(pos));
      }));
      return collateDet(samples, cfg.input.mean, cfg.input.std, p.size_divisor);
    },
  };
}

/** Segmentation training data of `recipe` from the folder `root`. */
export function segTrainData(recipe: TrainRecipe, root: string): TrainData<SegBatch> {
  const cfg = recipe.model;
  if (cfg.type !== 'segmentor') throw new Error('segTrainData needs a segmentor recipe');
  const ds = loadSegDataset(root);
  const stream = new SampleStream(ds.samples.length, recipe.seed);
  const b = recipe.batchSize;
  const p = recipe.segPipeline;
  const d = { numClasses: cfg.num_classes, ignoreIndex: cfg.dataset.ignore_index, reduceZeroLabel: cfg.dataset.reduce_zero_label };
  return {
    size: ds.samples.length,
    async batch(k) {
      const samples = await Promise.all(Array.from({ length: b }, (_, j) => {
        const pos = k * b + j;
        return loadSegSample(ds.samples[stream.index(pos)], p, d, stream.rng(pos));
      }));
      return collateSeg(samples, cfg.input.mean, cfg.input.std, p.size_divisor, p.crop_size, d.ignoreIndex);
    },
  };
}
