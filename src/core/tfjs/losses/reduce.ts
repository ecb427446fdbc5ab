/**
 * Loss reduction with mmdetection/mmsegmentation conventions (`weight_reduce_loss`): an optional
 * element-wise weight, then 'none' | 'sum' | 'mean', where 'mean' with an `avgFactor` is
 * sum / (avgFactor + ε) (ε = float32 machine epsilon, as mmdetection 2.x) instead of the element mean.
 */
import * as tf from '@tensorflow/tfjs-core';

export type Reduction = 'none' | 'mean' | 'sum';

/** Options every loss takes. */
export interface ReduceOptions {
  /** Element-wise weight, broadcast against the element-wise loss. */
  weight?: tf.Tensor;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** Divisor of the summed loss for 'mean' (mmdet's `avg_factor`); an error with 'sum'. */
  avgFactor?: number;
}

/** float32 machine epsilon (torch.finfo(torch.float32).eps). */
export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Applies `weight`, then reduces as mmdet's `weight_reduce_loss`. */
export function weightReduceLoss(loss: tf.Tensor, opts: ReduceOptions = {}): tf.Tensor {
  const reduction = opts.reduction ?? 'mean';
  const weighted = opts.weight ? tf.mul(loss, opts.weight) : loss;
  if (opts.avgFactor === undefined) {
    if (reduction === 'none') return weighted;
    if (reduction === 'sum') return tf.sum(weighted);
    // The mean of an empty loss is 0 here (PyTorch gives NaN); losses are summed across heads.
    return weighted.size === 0 ? tf.scalar(0) : tf.mean(weighted);
  }
  if (reduction === 'mean') return tf.div(tf.sum(weighted), opts.avgFactor + FLOAT32_EPS);
  if (reduction === 'none') return weighted;
  throw new Error('avgFactor can not be used with reduction "sum"');
}

/** Multiplies a loss by `lossWeight` (the losses' `loss_weight`), skipping the op for 1. */
export function scaleLoss(loss: tf.Tensor, lossWeight: number | undefined): tf.Tensor {
  return lossWeight === undefined || lossWeight === 1 ? loss : tf.mul(loss, lossWeight);
}
