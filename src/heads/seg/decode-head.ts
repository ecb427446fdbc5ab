/** What mmsegmentation's BaseDecodeHead gives every head: dropout then `conv_seg` (1×1, with bias). */
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
