/**
 * mmdetection's `GIoULoss` (`giou_loss` with `bbox_overlaps(mode='giou', is_aligned=True)`):
 * 1 − GIoU of predicted and target boxes [N, 4] (x1, y1, x2, y2), with the union and the enclosing
 * area floored at `eps`; a weight per box (a [N, 4] weight is averaged over its 4 columns), then
 * mmdetection's reduction and `lossWeight`. All-zero weights give 0 (with a gradient of 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ReduceOptions, scaleLoss, weightReduceLoss } from './reduce.js';

export interface GIoULossOptions extends ReduceOptions {
  lossWeight?: number;
  /** Floor of the union and the enclosing area (mmdetection 1e-6). */
  eps?: number;
}

function cols(t: tf.Tensor): tf.Tensor[] {
  return tf.unstack(t, 1);
}

/** GIoU loss of boxes `pred` against `target` ([N, 4] each). */
export function giouLoss(pred: tf.Tensor, target: tf.Tensor, opts: GIoULossOptions = {}): tf.Tensor {
  if (pred.shape.join() !== target.shape.join()) throw new Error(`GIoU loss: prediction [${pred.shape}] and target [${target.shape}] differ in shape`);
  let weight = opts.weight;
  if (pred.shape[0] === 0 || (weight && !weight.dataSync().some((v) => v > 0))) return tf.mul(tf.sum(pred), 0);
  if (weight && weight.rank > 1) weight = tf.mean(weight, -1);
  const eps = opts.eps ?? 1e-6;
  const [px1, py1, px2, py2] = cols(pred);
  const [tx1, ty1, tx2, ty2] = cols(target);
  const area1 = tf.mul(tf.sub(px2, px1), tf.sub(py2, py1));
  const area2 = tf.mul(tf.sub(tx2, tx1), tf.sub(ty2, ty1));
  const iw = tf.relu(tf.sub(tf.minimum(px2, tx2), tf.maximum(px1, tx1)));
  const ih = tf.relu(tf.sub(tf.minimum(py2, ty2), tf.maximum(py1, ty1)));
  const overlap = tf.mul(iw, ih);
  const union = tf.maximum(tf.sub(tf.add(area1, area2), overlap), eps);
  const ious = tf.div(overlap, union);
  const ew = tf.relu(tf.sub(tf.maximum(px2, tx2), tf.minimum(px1, tx1)));
  const eh = tf.relu(tf.sub(tf.maximum(py2, ty2), tf.minimum(py1, ty1)));
  const enclose = tf.maximum(tf.mul(ew, eh), eps);
  const gious = tf.sub(ious, tf.div(tf.sub(enclose, union), enclose));
  const loss = tf.sub(1, gious);
  return scaleLoss(weightReduceLoss(loss, { ...opts, weight }), opts.lossWeight);
}
