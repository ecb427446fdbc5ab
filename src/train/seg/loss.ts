/**
 * The semantic segmentation training loss (mmsegmentation 0.x `EncoderDecoder.forward_train`): the
 * decode head's and the auxiliary head's own losses (`DecodeHead.loss`: logits resized to the
 * label size, cross-entropy with the dataset's ignore index, the head's class and loss weights).
 */
import type * as tf from '@tensorflow/tfjs-core';
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
