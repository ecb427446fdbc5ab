/**
 * Evaluation during training with the project's own evaluators: COCO box and mask AP
 * (src/eval/coco, pycocotools semantics) for detectors, mIoU (src/eval/miou, mmseg semantics) for
 * segmentors, on a held-out dataset in the layouts `convnext eval` reads. The model runs with the
 * current weights on the inference engine named by the recipe.
 */
import type { EngineName, EngineOptions } from '../core/engine.js';
import type { WeightMap } from '../core/weights.js';
import type { DetectorConfig } from '../config/detector.js';
import type { SegmentorConfig } from '../config/segmentor.js';
import { defaultParams, evaluateCoco, type IouType } from '../eval/coco/cocoeval.js';
import { cocoImagePath, loadCocoDataset, prepareDetections } from '../io/coco/dataset.js';
import { STAT_NAMES } from '../eval/coco/format.js';
import type { CocoDataset, CocoResult } from '../io/coco/types.js';
import { readRgb } from '../io/image.js';
import { classCategoryIds } from '../data/coco-train.js';
import { toCocoResults } from '../tasks/detection/detector-predict.js';
import { Segmentor } from '../tasks/segmentation/segmentor.js';
import { evaluateSegmentation } from '../tasks/segmentation/segmentor-eval.js';
import { listSegSamples } from '../io/seg-dataset.js';
import { createSegmentorPredictor } from '../tasks/segmentation/segmentor-engine.js';
import { createDetectorPredictor } from '../tasks/detection/detector-engine.js';

/** Metrics by name (COCO: bbox_AP, bbox_AP50, …, segm_AP, …; segmentation: mIoU, aAcc, mAcc), fractions. */
export type Metrics = Record<string, number>;

/** Where a detection dataset's parts are. */
export interface DetDataPaths {
  annotations: string;
  images: string;
}

/** Runs a detector over a COCO dataset and returns its COCO results. */
export async function predictDetections(cfg: DetectorConfig, weights: WeightMap, gt: CocoDataset, imageDir: string, engine: EngineName, opts: EngineOptions & { limit?: number; onProgress?: (done: number) => void } = {}): Promise<{ results: CocoResult[]; imgIds: number[] }> {
  const predictor = await createDetectorPredictor(cfg, weights, engine, opts);
  const categoryIds = classCategoryIds(predictor.detector.classNames, gt);
  const images = gt.images.slice(0, opts.limit ?? gt.images.length);
  const results: CocoResult[] = [];
  try {
    for (const [i, im] of images.entries()) {
      const img = await readRgb(cocoImagePath(imageDir, im.file_name ?? '', `images[${i}] (id ${im.id})`));
      results.push(...toCocoResults(await predictor.predict(img), im.id, { cocoClasses: false, categoryIds }));
      opts.onProgress?.(i + 1);
    }
  } finally {
    await predictor.dispose();
  }
  return { results, imgIds: images.map((im) => im.id) };
}

/** COCO bbox and segm AP of a detector on a held-out set. */
export async function evaluateDetector(cfg: DetectorConfig, weights: WeightMap, data: DetDataPaths, engine: EngineName, opts: EngineOptions & { limit?: number } = {}): Promise<Metrics> {
  const gt = loadCocoDataset(data.annotations);
  const { results, imgIds } = await predictDetections(cfg, weights, gt, data.images, engine, opts);
  const metrics: Metrics = {};
  for (const t of ['bbox', 'segm'] as IouType[]) {
    const own = t === 'segm' ? results.filter((r) => r.segmentation).map(({ bbox: _drop, ...r }) => r) : results.filter((r) => r.bbox);
    const res = evaluateCoco(gt, prepareDetections(own, gt), t, { ...defaultParams(), imgIds });
    STAT_NAMES.forEach((n, i) => (metrics[`${t}_${n}`] = res.stats[i]));
  }
  return metrics;
}

/** mIoU, aAcc and mAcc of a segmentor on a held-out folder (images/, annotations/). */
export async function evaluateSegmentor(cfg: SegmentorConfig, weights: WeightMap, root: string, engine: EngineName, opts: EngineOptions & { limit?: number } = {}): Promise<Metrics> {
  const samples = listSegSamples(root).slice(0, opts.limit);
  const predictor = await createSegmentorPredictor(new Segmentor(cfg), weights, engine, opts);
  try {
    const r = await evaluateSegmentation(predictor, samples);
    return { mIoU: r.mIoU, aAcc: r.aAcc, mAcc: r.mAcc };
  } finally {
    await predictor.dispose();
  }
}
