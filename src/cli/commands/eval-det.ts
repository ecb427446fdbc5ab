/**
 * COCO evaluation of a detector (`convnext eval` for Mask R-CNN configs): runs the model over the
 * images of an instance annotation file, or reads a results file (`--results`), and evaluates
 * `bbox` and `segm` with pycocotools' semantics; prints the 12 standard numbers per IoU type and
 * writes them, with per-category APs, as JSON. Labels map to categories by class name (as
 * mmdetection's `get_cat_ids(cat_names=CLASSES)`), else by position in id order.
 */
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { type DetectorConfig, isDetectorConfig } from '../../config/detector.js';
import { defaultParams, evaluateCoco, type IouType } from '../../eval/coco/cocoeval.js';
import { loadCocoDataset, loadCocoResults, prepareDetections } from '../../io/coco/dataset.js';
import { cocoResultToJson, formatCocoPerCategory, formatCocoSummary } from '../../eval/coco/format.js';
import type { CocoDataset, CocoResult } from '../../io/coco/types.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readRgb } from '../../io/image.js';
import { Detector } from '../../tasks/detection/detector.js';
import { toCocoResults } from '../../tasks/detection/detector-predict.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import { exportedDetectorPredictor } from '../../tasks/exported-model.js';
import type { OnnxModel } from '../../tasks/onnx-model.js';
import { configFromFlags, engineOptions, type ModelFlags, weightsFor } from '../common.js';
import { progress } from '../progress.js';
import { createDetectorPredictor } from '../../tasks/detection/detector-engine.js';

export interface EvalDetFlags extends ModelFlags {
  data: string;
  /** The exported model of --model, read (its metadata gives the config). */
  onnx?: OnnxModel & { bytes: Uint8Array };
  images?: string;
  results?: string;
  out?: string;
  limit?: number;
  classwise?: boolean;
  saveResults?: string;
}

/** Category id of each label: by class name when every name is a category, else by position. */
export function labelCategoryIds(classNames: readonly string[], gt: CocoDataset): number[] {
  const byName = new Map(gt.categories.map((c) => [c.name, c.id]));
  if (classNames.every((n) => byName.has(n))) return classNames.map((n) => byName.get(n)!);
  const ids = gt.categories.map((c) => c.id).sort((a, b) => a - b);
  if (ids.length !== classNames.length) {
    throw new UserError(`${gt.file}: ${ids.length} categories, but the model has ${classNames.length} classes whose names are not all categories`);
  }
  return ids;
}

/** Runs the detector over the ground truth's images (the first `limit`); COCO results with bbox and segm. */
async function predictAll(f: EvalDetFlags, cfg: DetectorConfig, gt: CocoDataset): Promise<{ results: CocoResult[]; imgIds: number[] }> {
  if (!f.images) throw new UserError('--images <dir> is required unless --results is given');
  if (!f.weights && !f.onnx) throw new UserError('--weights <file> (or --model) is required unless --results is given');
  const det = new Detector(cfg);
  const categoryIds = labelCategoryIds(det.classNames, gt);
  const images = gt.images.slice(0, f.limit ?? gt.images.length);
  const predictor = f.onnx
    ? exportedDetectorPredictor(det, f.onnx, await OrtModelRunner.create(f.onnx.bytes, { threads: f.threads }), f.model)
    : await createDetectorPredictor(det, await weightsFor(det.scope.registry, f.weights), f.engine, engineOptions(f));
  const bar = progress('eval', images.length, { unit: 'images' });
  const results: CocoResult[] = [];
  try {
    for (const [i, im] of images.entries()) {
      if (!im.file_name) throw new UserError(`${gt.file}: image ${im.id} has no file_name`);
      const img = await readRgb(join(f.images, im.file_name));
      if (img.width !== im.width || img.height !== im.height) {
        throw new UserError(`${join(f.images, im.file_name)}: ${img.width}×${img.height}, but ${gt.file} says ${im.width}×${im.height}`);
      }
      results.push(...toCocoResults(await predictor.predict(img), im.id, { cocoClasses: false, categoryIds }));
      bar.update(i + 1);
    }
  } finally {
    bar.stop();
    await predictor.dispose();
  }
  return { results, imgIds: images.map((im) => im.id) };
}

/** `convnext eval` for detectors: prints the summaries and writes the JSON report; returns it. */
export async function evalDetection(f: EvalDetFlags): Promise<Record<string, unknown>> {
  const gt = loadCocoDataset(f.data);
  let results: CocoResult[];
  let imgIds: number[] | undefined;
  if (f.results) {
    results = loadCocoResults(f.results);
  } else {
    if (!f.config && !f.onnx) throw new UserError('--config <name> (or --model) is required unless --results is given');
    const cfg = f.onnx ? f.onnx.config : configFromFlags(f);
    if (!isDetectorConfig(cfg)) throw new UserError(`${f.model ?? `config ${f.config}`} is a ${cfg.type}, not a detector`);
    ({ results, imgIds } = await predictAll(f, cfg, gt));
    if (f.saveResults) await writeFileAtomic(f.saveResults, JSON.stringify(results));
  }
  const types: IouType[] = [];
  if (results.length === 0 || results.some((r) => r.bbox)) types.push('bbox');
  if (results.some((r) => r.segmentation)) types.push('segm');
  const report: Record<string, unknown> = { data: f.data, images: imgIds?.length ?? gt.images.length, detections: results.length };
  for (const t of types) {
    // Mask AP uses the masks' own areas (mmdetection drops the boxes before loadRes for segm).
    const own = t === 'segm' ? results.filter((r) => r.segmentation).map(({ bbox: _drop, ...r }) => r) : results.filter((r) => r.bbox);
    const dets = prepareDetections(own, gt, f.results ?? 'results');
    const res = evaluateCoco(gt, dets, t, imgIds ? { ...defaultParams(), imgIds } : defaultParams());
    console.log(`Evaluate annotation type *${t}*`);
    console.log(formatCocoSummary(res));
    if (f.classwise) console.log(formatCocoPerCategory(res));
    report[t] = cocoResultToJson(res);
  }
  if (f.out) {
    await writeFileAtomic(f.out, JSON.stringify(report, null, 2));
    console.error(`wrote ${f.out}`);
  }
  return report;
}

