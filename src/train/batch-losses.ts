/**
 * The loss terms of one training batch for either task (the trainer's step and
 * tools/bench_train_step.ts): Mask R-CNN losses for a detection batch, the segmentation heads'
 * cross-entropy for a label-map batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfjsDetOps } from '../core/tfjs/det-ops.js';
import type { DetBatch, SegBatch } from '../data/batch.js';
import { Detector } from '../tasks/detection/detector.js';
import type { Segmentor } from '../tasks/segmentation/segmentor.js';
import type { DetTrainConfig } from './det/config.js';
import { detectorLosses } from './det/loss.js';
import type { TrainRng } from '../data/rng.js';
import { segmentorLosses } from './seg/loss.js';

/**
 * Loss terms of `model` on the batch (`x`: its images as a tensor). The label tensor of a
 * segmentation batch is made here, so call it inside a `tidy` (as `trainStep` does).
 */
export function batchLosses(model: Detector | Segmentor, ops: TfjsDetOps, x: tf.Tensor, batch: DetBatch | SegBatch, detTrain: DetTrainConfig, rng: TrainRng): Record<string, tf.Scalar> {
  if (model instanceof Detector) {
    if ('labels' in batch) throw new Error('batchLosses: a detector needs a detection batch');
    return detectorLosses(model, ops, x, batch, detTrain, rng);
  }
  if (!('labels' in batch)) throw new Error('batchLosses: a segmentor needs a label-map batch');
  return segmentorLosses(model, ops, x, tf.tensor(batch.labels.data, batch.labels.shape, 'int32'));
}
