/**
 * Classification losses with mmsegmentation / mmdetection `CrossEntropyLoss` semantics, on
 * class-last tensors (the tfjs engine's NHWC logits, or [N, C] scores):
 * - softmax cross-entropy with ignore index, class weights, `avg_non_ignore`;
 * - sigmoid (binary) cross-entropy with logits, one-hot expansion of integer labels, `pos_weight`;
 * - mask cross-entropy: per-RoI binary cross-entropy on the channel of the RoI's class.
 * Class selection uses one-hot products rather than gather, whose gradient the wasm backend lacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogits } from './elementwise.js';
import { FLOAT32_EPS, type ReduceOptions, scaleLoss, weightReduceLoss } from './reduce.js';

/** PyTorch's default ignore index. */
export const TORCH_IGNORE_INDEX = -100;

export interface CrossEntropyOptions extends ReduceOptions {
  /** Weight of each class (PyTorch `weight=`): scales the loss of elements of that class. */
  classWeight?: readonly number[];
  /** Label value that contributes neither loss nor gradient (default −100; mmseg heads pass 255). */
  ignoreIndex?: number;
  /** 'mean' divides by the number of non-ignored elements instead of all elements (mmseg ≥ 0.23). */
  avgNonIgnore?: boolean;
  /** Multiplier of the reduced loss (`loss_weight`). */
  lossWeight?: number;
}

function checkLabels(what: string, pred: tf.Tensor, label: tf.Tensor): void {
  const expect = pred.shape.slice(0, -1);
  if (label.shape.length !== expect.length || label.shape.some((d, i) => d !== expect[i])) {
    throw new Error(`${what}: labels of shape [${label.shape}] do not match predictions [${pred.shape}] (expected [${expect}])`);
  }
}

/** Valid-element mask (label ≥ 0 and ≠ ignoreIndex) as float, and labels with invalid ones set to 0 (int32). */
function validLabels(label: tf.Tensor, ignoreIndex: number): { valid: tf.Tensor; safe: tf.Tensor } {
  const li = label.dtype === 'int32' ? label : tf.cast(label, 'int32');
  const ok = tf.logicalAnd(tf.greaterEqual(li, 0), tf.notEqual(li, ignoreIndex));
  return { valid: tf.cast(ok, 'float32'), safe: tf.where(ok, li, tf.zerosLike(li)) };
}

/**
 * One-hot rows as float32; labels outside 0 … depth − 1 give all-zero rows. tf.oneHot (int32, then
 * cast: the wasm backend's float one-hot is unreliable) where it applies (depth ≥ 2), else a
 * comparison with 0 … depth − 1, whose broadcast is several times slower on wasm.
 */
function oneHotF(labels: tf.Tensor, depth: number): tf.Tensor {
  const li = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  if (depth >= 2) return tf.cast(tf.oneHot(li, depth), 'float32');
  return tf.cast(tf.equal(tf.expandDims(li, -1), tf.range(0, depth, 1, 'int32')), 'float32');
}

/**
 * Softmax cross-entropy over the last axis: `pred` [..., C] logits, `label` [...] integer classes.
 * Element loss = −classWeight[y]·log softmax(pred)[y], 0 where ignored; then weighted and reduced
 * (mmseg `cross_entropy`: plain mean over all elements unless `avgNonIgnore`).
 */
export function crossEntropy(pred: tf.Tensor, label: tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor {
  checkLabels('cross-entropy', pred, label);
  const c = pred.shape[pred.rank - 1];
  if (opts.classWeight && opts.classWeight.length !== c) {
    throw new Error(`cross-entropy: ${opts.classWeight.length} class weights for ${c} classes`);
  }
  const { valid, safe } = validLabels(label, opts.ignoreIndex ?? TORCH_IGNORE_INDEX);
  const oh = oneHotF(safe, c);
  const picked = tf.sum(tf.mul(oh, tf.logSoftmax(pred, -1)), -1);
  let elem = tf.mul(tf.neg(picked), valid);
  if (opts.classWeight) elem = tf.mul(elem, tf.sum(tf.mul(oh, tf.tensor1d([...opts.classWeight])), -1));
  let loss: tf.Tensor;
  if (opts.avgFactor === undefined && opts.avgNonIgnore && (opts.reduction ?? 'mean') === 'mean') {
    const summed = tf.sum(opts.weight ? tf.mul(elem, opts.weight) : elem);
    loss = tf.div(summed, tf.add(tf.sum(valid), FLOAT32_EPS));
  } else {
    loss = weightReduceLoss(elem, opts);
  }
  return scaleLoss(loss, opts.lossWeight);
}

export interface BinaryCrossEntropyOptions extends ReduceOptions {
  /** PyTorch `pos_weight` per class (last axis): weight of the positive term. */
  posWeight?: readonly number[];
  /** Label value excluded from the loss (default −100). */
  ignoreIndex?: number;
  /** 'mean' divides by the number of valid elements instead of all elements. */
  avgNonIgnore?: boolean;
  lossWeight?: number;
}

/**
 * Sigmoid cross-entropy with logits (mmdet `binary_cross_entropy`). `label` either has `pred`'s
 * shape (0/1 or soft targets) or one axis fewer with integer classes, expanded to one-hot over
 * the last axis (labels ≥ C, e.g. RPN's background label C, give all-zero rows).
 */
export function binaryCrossEntropy(pred: tf.Tensor, label: tf.Tensor, opts: BinaryCrossEntropyOptions = {}): tf.Tensor {
  const ignore = opts.ignoreIndex ?? TORCH_IGNORE_INDEX;
  const c = pred.shape[pred.rank - 1];
  let target: tf.Tensor;
  let valid: tf.Tensor;
  let sampleWeight = opts.weight;
  if (label.rank === pred.rank - 1) {
    // Per-label weights follow the labels onto their one-hot rows.
    if (sampleWeight && sampleWeight.rank === label.rank) sampleWeight = tf.expandDims(sampleWeight, -1);
    checkLabels('binary cross-entropy', pred, label);
    const v = validLabels(label, ignore);
    target = oneHotF(v.safe, c);
    // Invalid rows are masked entirely: target 0 and weight 0.
    target = tf.mul(target, tf.expandDims(v.valid, -1));
    valid = tf.mul(tf.expandDims(v.valid, -1), tf.onesLike(pred));
  } else {
    if (label.shape.join() !== pred.shape.join()) throw new Error(`binary cross-entropy: labels [${label.shape}] do not match predictions [${pred.shape}]`);
    target = label.dtype === 'float32' ? label : tf.cast(label, 'float32');
    valid = tf.cast(tf.logicalAnd(tf.greaterEqual(target, 0), tf.notEqual(target, ignore)), 'float32');
  }
  const weight = sampleWeight ? tf.mul(sampleWeight, valid) : valid;
  const elem = bceWithLogits(pred, target, opts.posWeight ? tf.tensor1d([...opts.posWeight]) : undefined);
  let loss: tf.Tensor;
  if (opts.avgFactor === undefined && opts.avgNonIgnore && (opts.reduction ?? 'mean') === 'mean') {
    loss = tf.div(tf.sum(tf.mul(elem, weight)), tf.add(tf.sum(valid), FLOAT32_EPS));
  } else {
    loss = weightReduceLoss(elem, { ...opts, weight });
  }
  return scaleLoss(loss, opts.lossWeight);
}

/**
 * Mask loss of Mask R-CNN (mmdet `mask_cross_entropy`): `pred` [R, H, W, C] mask logits (class
 * last), `target` [R, H, W] binary masks, `labels` [R] classes; mean binary cross-entropy of each
 * RoI's own class channel. No RoIs give 0.
 */
export function maskCrossEntropy(pred: tf.Tensor, target: tf.Tensor, labels: tf.Tensor, opts: { lossWeight?: number } = {}): tf.Tensor {
  const [r, , , c] = pred.shape;
  if (pred.rank !== 4 || target.rank !== 3 || labels.rank !== 1 || target.shape[0] !== r || labels.shape[0] !== r) {
    throw new Error(`mask cross-entropy: expected pred [R,H,W,C], target [R,H,W], labels [R]; got [${pred.shape}], [${target.shape}], [${labels.shape}]`);
  }
  if (r === 0) return scaleLoss(tf.mul(tf.sum(pred), 0), opts.lossWeight);
  const li = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  const sel = tf.reshape(oneHotF(li, c), [r, 1, 1, c]);
  const chosen = tf.sum(tf.mul(pred, sel), -1);
  return scaleLoss(tf.mean(bceWithLogits(chosen, target)), opts.lossWeight);
}
