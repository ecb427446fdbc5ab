/**
 * Box regression losses with mmdetection semantics: L1 and smooth L1 (`beta`), element-wise
 * weights, 'mean' | 'sum' | 'none' with `avgFactor`, `lossWeight`; an empty target gives 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { absWithSignGrad } from './elementwise.js';
import { type ReduceOptions, scaleLoss, weightReduceLoss } from './reduce.js';

export interface RegressionLossOptions extends ReduceOptions {
  lossWeight?: number;
}

function checkPair(what: string, pred: tf.Tensor, target: tf.Tensor): void {
  if (pred.shape.join() !== target.shape.join()) throw new Error(`${what}: prediction [${pred.shape}] and target [${target.shape}] differ in shape`);
}

/** mmdet `l1_loss`: |pred − target| (gradient sign, 0 at equality). */
export function l1Loss(pred: tf.Tensor, target: tf.Tensor, opts: RegressionLossOptions = {}): tf.Tensor {
  checkPair('L1 loss', pred, target);
  if (target.size === 0) return scaleLoss(tf.mul(tf.sum(pred), 0), opts.lossWeight);
  return scaleLoss(weightReduceLoss(absWithSignGrad(tf.sub(pred, target)), opts), opts.lossWeight);
}

/**
 * mmdet `smooth_l1_loss`: d = |pred − target|; 0.5·d²/β where d < β, d − 0.5·β otherwise (β > 0),
 * written as q = min(d, β): 0.5·q²/β + (d − q), whose gradient is 0 at d = 0.
 */
export function smoothL1Loss(pred: tf.Tensor, target: tf.Tensor, opts: RegressionLossOptions & { beta?: number } = {}): tf.Tensor {
  checkPair('smooth L1 loss', pred, target);
  const beta = opts.beta ?? 1;
  if (!(beta > 0)) throw new Error(`smooth L1 loss: beta must be > 0, got ${beta}`);
  if (target.size === 0) return scaleLoss(tf.mul(tf.sum(pred), 0), opts.lossWeight);
  const d = absWithSignGrad(tf.sub(pred, target));
  const q = tf.minimum(d, beta);
  const elem = tf.add(tf.mul(tf.square(q), 0.5 / beta), tf.sub(d, q));
  return scaleLoss(weightReduceLoss(elem, opts), opts.lossWeight);
}
