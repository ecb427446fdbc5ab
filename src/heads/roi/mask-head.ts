/**
 * The mask head (mmdetection `FCNMaskHead`, torchvision `MaskRCNNHeads` + `MaskRCNNPredictor`):
 * `num_convs` 3×3 convs with ReLU (`convs.k.conv`), a 2×2 stride-2 transposed conv with ReLU
 * (`upsample`), 1×1 logits per class (`conv_logits`, optionally with a background channel first).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvModule, Conv2d } from '../../core/layers.js';
import { maskCrossEntropy } from '../../core/tfjs/losses/index.js';
import type { DetOps } from '../../core/det-ops.js';
import type { ParamRef, Scope } from '../../core/params.js';

export interface MaskHeadOptions {
  inChannels: number;
  numConvs: number;
  convChannels: number;
  numClasses: number;
  /** `conv_logits` has a background channel first (torchvision). */
  withBackground: boolean;
}

export class MaskHead {
  private readonly convs: ConvModule[] = [];
  private readonly upWeight: ParamRef;
  private readonly upBias: ParamRef;
  private readonly logits: Conv2d;

  constructor(scope: Scope, readonly o: MaskHeadOptions) {
    let c = o.inChannels;
    for (let k = 0; k < o.numConvs; k++) {
      this.convs.push(new ConvModule(scope.child('convs').child(k), c, o.convChannels, 3, { padding: 1, norm: null, act: 'relu' }));
      c = o.convChannels;
    }
    const up = scope.child('upsample');
    const fanIn = c * 4;
    this.upWeight = up.param('weight', [c, c, 2, 2], { kind: 'torchDefault', fanIn, bias: false });
    this.upBias = up.param('bias', [c], { kind: 'torchDefault', fanIn, bias: true }, 'bias');
    this.logits = new Conv2d(scope.child('conv_logits'), c, o.numClasses + (o.withBackground ? 1 : 0), 1);
  }

  /** Mask logits of every class channel [D, Cm, 28, 28] of pooled RoI features [D, C, 14, 14] (what training's loss reads). */
  raw<T>(ops: DetOps<T>, roiFeats: T): T {
    let x = roiFeats;
    for (const c of this.convs) x = c.forward(ops, x);
    x = ops.relu(ops.convTranspose2d(x, this.upWeight, this.upBias, { stride: 2 }));
    return this.logits.forward(ops, x);
  }

  /**
   * Training loss (mmdetection `FCNMaskHead.loss`, tfjs engine): per-pixel sigmoid BCE of each
   * positive RoI's class channel against its binary target [P·s·s], averaged; `labels` are 0-based
   * foreground classes.
   */
  loss(logits: tf.Tensor, targets: Float32Array, labels: readonly number[], lossWeight: number): tf.Tensor {
    const p = labels.length;
    const s = logits.shape[1] as number;
    if (targets.length !== p * s * s) throw new Error(`mask loss: ${targets.length} target values for ${p} RoIs of ${s}×${s}`);
    const channels = labels.map((l) => l + (this.o.withBackground ? 1 : 0));
    return maskCrossEntropy(logits, tf.tensor3d(targets, [p, s, s]), tf.tensor1d(channels, 'int32'), { lossWeight });
  }

  /** Mask probabilities [D, 1, 28, 28] of each RoI's class (`labels`: float table [D], 0-based foreground). */
  forward<T>(ops: DetOps<T>, roiFeats: T, labels: T): T {
    const channel = this.o.withBackground ? ops.addScalar(labels, 1) : labels;
    return ops.sigmoid(ops.selectChannel(this.raw(ops, roiFeats), channel));
  }
}
