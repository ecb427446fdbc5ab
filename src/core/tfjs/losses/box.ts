/** A box regression loss chosen by config: L1, smooth L1 (on deltas or boxes) or GIoU (on boxes). */
import type * as tf from '@tensorflow/tfjs-core';
import { giouLoss } from './giou.js';
import { l1Loss, smoothL1Loss } from './regression.js';

/** Which box loss, with mmdetection's `loss_weight` (and smooth L1's `beta`). */
export interface BoxLossSpec {
  type: 'l1' | 'smooth_l1' | 'giou';
  beta: number;
  loss_weight: number;
}

/** The loss of `pred` against `target` ([..., 4]) with element weights, averaged by `avgFactor`. */
export function boxLoss(pred: tf.Tensor, target: tf.Tensor, weight: tf.Tensor, avgFactor: number, c: BoxLossSpec): tf.Tensor {
  const opts = { weight, avgFactor, lossWeight: c.loss_weight };
  if (c.type === 'giou') return giouLoss(pred, target, opts);
  return c.type === 'l1' ? l1Loss(pred, target, opts) : smoothL1Loss(pred, target, { ...opts, beta: c.beta });
}
