/**
 * Semantic-segmentation evaluation: the loop that segments each sample of a dataset folder
 * (src/io/seg-dataset.ts) and accumulates mmseg's IoU statistics.
 */
import { UserError } from '../../core/errors.js';
import { MIoUAccumulator, type MIoUResult } from '../../eval/miou.js';
import { readRgb } from '../../io/image.js';
import { readLabelMap, type SegSample } from '../../io/seg-dataset.js';
import type { SegmentOptions, SegmentorPredictor } from './segmentor-predict.js';


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
