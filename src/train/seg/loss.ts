/**
 * The semantic segmentation training loss (mmsegmentation 0.x `EncoderDecoder.forward_train`):
 * decode-head logits and auxiliary-head logits each resized to the label size (bilinear,
 * align_corners=False), softmax cross-entropy with the dataset's ignore index averaged over all
 * pixels (`avg_non_ignore=False`), each pixel weighted by its class's `class_weight` where the head
 * sets one, times each head's `loss_weight` (1.0 and 0.4).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfjsOps } from '../../core/tfjs/ops.js';
import type { Segmentor } from '../../tasks/segmentation/segmentor.js';

export type SegLosses = Record<string, tf.Scalar>;

/** Loss terms `decode.loss_ce` (and `aux.loss_ce`) of a batch `x` (NHWC) with labels [N, H, W] (int32). */
export function segmentorLosses(seg: Segmentor, ops: TfjsOps, x: tf.Tensor, labels: tf.Tensor): SegLosses {
  const ignoreIndex = seg.config.dataset.ignore_index;
  const heads = seg.heads(ops, x, seg.auxiliaryHead !== null);
  const out: SegLosses = { 'decode.loss_ce': seg.decodeHead.loss(ops, heads.logits, labels, ignoreIndex) as tf.Scalar };
  if (heads.aux !== undefined && seg.auxiliaryHead) out['aux.loss_ce'] = seg.auxiliaryHead.loss(ops, heads.aux, labels, ignoreIndex) as tf.Scalar;
  return out;
}
