/** What mmsegmentation's BaseDecodeHead gives every head: dropout then `conv_seg` (1×1, with bias), and its loss options. */
import { z } from 'zod';
import { Conv2d } from '../../core/layers.js';
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
