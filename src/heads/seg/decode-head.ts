/** What mmsegmentation's BaseDecodeHead gives every head: dropout then `conv_seg` (1×1, with bias), and its loss options. */
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { Conv2d } from '../../core/layers.js';
import { crossEntropy } from '../../core/tfjs/losses/index.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';

/** The classifier of a decode head: Dropout2d (training only) → `conv_seg`. */
export class ClsSeg {
  readonly convSeg: Conv2d;

  constructor(scope: Scope, channels: number, numClasses: number, readonly dropoutRatio: number) {
    // mmseg initialises conv_seg with normal(0, 0.01), bias 0.
    this.convSeg = new Conv2d(scope.child('conv_seg'), channels, numClasses, 1, { std: 0.01 });
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return this.convSeg.forward(ops, ops.dropout(x, this.dropoutRatio));
  }
}

/** Config fields of every decode head (mmsegmentation `BaseDecodeHead`), with its loss weight's default. */
export function decodeHeadFields(lossWeight: number) {
  return {
    /** Dropout before `conv_seg` (training only). */
    dropout_ratio: z.number().min(0).max(1).default(0.1),
    /** Weight of this head's cross-entropy in the training loss. */
    loss_weight: z.number().min(0).default(lossWeight),
    /** Per-class weights of the cross-entropy (mmseg `CrossEntropyLoss.class_weight`), one per class. */
    class_weight: z.array(z.number().min(0)).optional(),
  };
}

/** What every decode head config has (the training loss reads these). */
export interface DecodeHeadConfig {
  readonly type: string;
  readonly dropout_ratio: number;
  readonly loss_weight: number;
  readonly class_weight?: number[];
}

/** A decode head's loss options: the config's `loss_weight` and `class_weight`. */
export interface DecodeLossOptions {
  lossWeight: number;
  classWeight?: readonly number[];
}

/**
 * mmsegmentation's `BaseDecodeHead.losses`: logits resized to the label size (bilinear,
 * align_corners=False), softmax cross-entropy with the ignore index averaged over all pixels
 * (`avg_non_ignore=False`), each pixel weighted by its class's weight, times the loss weight.
 */
export function decodeHeadLoss(ops: Ops<tf.Tensor>, logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number, o: DecodeLossOptions): tf.Tensor {
  const [, h, w] = labels.shape as number[];
  return crossEntropy(ops.resize(logits, { size: [h, w] }, 'bilinear', false), labels, { ignoreIndex, lossWeight: o.lossWeight, classWeight: o.classWeight ? [...o.classWeight] : undefined });
}

/** The loss options of a decode head config. */
export function decodeLossOptions(c: DecodeHeadConfig): DecodeLossOptions {
  return { lossWeight: c.loss_weight, classWeight: c.class_weight };
}
