/**
 * The RPN head shared by all levels (mmdetection `RPNHead`, torchvision `RPNHead`): a 3×3 conv
 * with ReLU (`rpn_conv`), objectness logits with one sigmoid class per anchor (`rpn_cls`) and box
 * deltas (`rpn_reg`, 4 per anchor).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from '../../core/layers.js';
import { binaryCrossEntropy, type BoxLossSpec, boxLoss } from '../../core/tfjs/losses/index.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';

export class RpnHead {
  private readonly conv: Conv2d;
  private readonly cls: Conv2d;
  private readonly reg: Conv2d;

  constructor(scope: Scope, inChannels: number, feat: number, readonly numAnchors: number) {
    this.conv = new Conv2d(scope.child('rpn_conv'), inChannels, feat, 3, { padding: 1, std: 0.01 });
    this.cls = new Conv2d(scope.child('rpn_cls'), feat, numAnchors, 1, { std: 0.01 });
    this.reg = new Conv2d(scope.child('rpn_reg'), feat, numAnchors * 4, 1, { std: 0.01 });
  }

  /** Objectness logits [1, A, H, W] and deltas [1, 4A, H, W] of one level. */
  forward<T>(ops: Ops<T>, x: T): { cls: T; reg: T } {
    const h = ops.relu(this.conv.forward(ops, x));
    return { cls: this.cls.forward(ops, h), reg: this.reg.forward(ops, h) };
  }

  /**
   * Training loss (mmdetection `AnchorHead.loss`, tfjs engine) of the raw outputs of each level for
   * a batch of `n` images: sigmoid BCE on the objectness of the sampled anchors and the box loss on
   * the positives' deltas, both averaged over all sampled anchors (`avgFactor`). Targets are per
   * level, images first, anchors in (h, w, a) order. Computed per level, as mmdetection's
   * `loss_single` (concatenating levels would make the gradient a strided split, which the wasm
   * backend reads back to the host).
   */
  loss(raw: ReadonlyArray<{ cls: tf.Tensor; reg: tf.Tensor }>, targets: readonly RpnLevelTargets[], n: number, avgFactor: number, o: { clsWeight: number; box: BoxLossSpec }): { loss_rpn_cls: tf.Tensor; loss_rpn_bbox: tf.Tensor } {
    const cls: tf.Tensor[] = [];
    const box: tf.Tensor[] = [];
    raw.forEach((h, l) => {
      const t = targets[l];
      const k = t.labels.length / n;
      cls.push(binaryCrossEntropy(tf.reshape(h.cls, [n, k]), tf.tensor2d(t.labels, [n, k]), { weight: tf.tensor2d(t.labelWeights, [n, k]), avgFactor, lossWeight: o.clsWeight }));
      box.push(boxLoss(tf.reshape(h.reg, [n, k, 4]), tf.tensor3d(t.deltas, [n, k, 4]), tf.tensor3d(t.deltaWeights, [n, k, 4]), avgFactor, o.box));
    });
    return { loss_rpn_cls: tf.addN(cls), loss_rpn_bbox: tf.addN(box) };
  }
}

/** One level's RPN targets for a batch: per image and anchor, objectness target and weight, deltas and their weights. */
export interface RpnLevelTargets {
  labels: Float32Array;
  labelWeights: Float32Array;
  deltas: Float32Array;
  deltaWeights: Float32Array;
}
