/**
 * The box head: mmdetection's `ConvFCBBoxHead` with shared branches only, which covers
 * `Shared2FCBBoxHead` (Mask R-CNN; torchvision's `TwoMLPHead` + `FastRCNNPredictor`) and
 * `Shared4Conv1FCBBoxHead` (the ConvNeXt Cascade Mask R-CNN's "4conv1f"): `num_shared_convs` 3×3
 * ConvModules (`shared_convs.k.conv`, with `shared_convs.k.bn` and no conv bias when normalised)
 * with ReLU, the RoI features flattened in (c, h, w) order, `num_shared_fcs` fully connected
 * layers with ReLU (`shared_fcs.k`), class logits (`fc_cls`, C + 1 with the background last or
 * first) and deltas (`fc_reg`: 4 per class, with or without the background, or 4 when class-agnostic).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvModule, Linear } from '../../core/layers.js';
import type { DetOps } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import { type BoxLossSpec, boxLoss, crossEntropy } from '../../core/tfjs/losses/index.js';
import { type BoxCoderOptions, decodeBoxes } from '../../core/det/coder.js';

export interface BBoxHeadOptions {
  inChannels: number;
  roiSize: number;
  /** Shared 3×3 convs before the fcs (0 for Shared2FC, 4 for 4conv1f) and their width. */
  numSharedConvs: number;
  convChannels: number;
  /** BatchNorm after each shared conv (mmcv ConvModule with norm_cfg BN / SyncBN). */
  convNorm: 'bn' | null;
  numSharedFcs: number;
  fcChannels: number;
  numClasses: number;
  /** Where `fc_cls` puts the background class. */
  background: 'last' | 'first';
  /** `fc_reg` also predicts deltas for the background class (torchvision). */
  regWithBackground: boolean;
  /** One set of deltas for every class (`reg_class_agnostic`). */
  classAgnostic: boolean;
}

/** Targets of a batch's sampled RoIs for {@link BBoxHead.loss} (mmdetection `BBoxHead.get_targets`). */
export interface BBoxLossTargets {
  /** [R] class of each RoI in `fc_cls` order (the background's index for negatives). */
  labels: readonly number[];
  /** [R·4] RoIs (x1, y1, x2, y2), to decode the predictions when the loss compares boxes. */
  rois: Float32Array;
  /** [R·4] deltas, or ground-truth boxes when decoded; anything on negative rows. */
  targets: readonly number[];
  /** [R·4] 1 on positive rows, 0 elsewhere. */
  weights: readonly number[];
  numPos: number;
}

/** How the box head's loss is computed (mmdetection `loss_cls`, `loss_bbox`, `reg_decoded_bbox`). */
export interface BBoxLossOptions {
  clsWeight: number;
  box: BoxLossSpec;
  /** Compare decoded boxes (with `coder`, unclipped) with ground-truth boxes instead of deltas. */
  decoded: boolean;
  coder: BoxCoderOptions;
}

/** Raw outputs of the box head: logits [R, C + 1] and deltas as `fc_reg` gives them. */
export interface BBoxRaw<T> {
  cls: T;
  reg: T;
}

export class BBoxHead {
  private readonly convs: ConvModule[] = [];
  private readonly fcs: Linear[] = [];
  private readonly cls: Linear;
  private readonly reg: Linear;

  constructor(scope: Scope, readonly o: BBoxHeadOptions) {
    if (o.classAgnostic && o.regWithBackground) throw new Error('bbox head: a class-agnostic fc_reg has no background rows');
    let c = o.inChannels;
    for (let k = 0; k < o.numSharedConvs; k++) {
      this.convs.push(new ConvModule(scope.child('shared_convs').child(k), c, o.convChannels, 3, { padding: 1, norm: o.convNorm, act: 'relu' }));
      c = o.convChannels;
    }
    let width = c * o.roiSize * o.roiSize;
    for (let k = 0; k < o.numSharedFcs; k++) {
      this.fcs.push(new Linear(scope.child('shared_fcs').child(k), width, o.fcChannels));
      width = o.fcChannels;
    }
    this.cls = new Linear(scope.child('fc_cls'), width, o.numClasses + 1, { std: 0.01 });
    const regRows = o.classAgnostic ? 1 : o.numClasses + (o.regWithBackground ? 1 : 0);
    this.reg = new Linear(scope.child('fc_reg'), width, regRows * 4, { std: 0.001 });
  }

  /** Logits and deltas of pooled RoI features [R, C, s, s] (what training's losses read). */
  raw<T>(ops: DetOps<T>, roiFeats: T): BBoxRaw<T> {
    let x = roiFeats;
    for (const conv of this.convs) x = conv.forward(ops, x);
    x = ops.flatten(x);
    for (const fc of this.fcs) x = ops.relu(fc.forward(ops, x));
    return { cls: this.cls.forward(ops, x), reg: this.reg.forward(ops, x) };
  }

  /** Foreground logits [R, C] (the background column dropped). */
  foregroundLogits<T>(ops: DetOps<T>, logits: T): T {
    const c = this.o.numClasses;
    return this.o.background === 'first' ? ops.columns(logits, 1, c + 1) : ops.columns(logits, 0, c);
  }

  /** Foreground class probabilities [R, C]: softmax over C + 1, background dropped. */
  scores<T>(ops: DetOps<T>, logits: T): T {
    return this.foregroundLogits(ops, ops.softmax(logits));
  }

  /** Foreground deltas: [R, 4C], or [R, 4] when class-agnostic. */
  deltas<T>(ops: DetOps<T>, reg: T): T {
    if (!this.o.regWithBackground) return reg;
    const c = this.o.numClasses;
    return this.o.background === 'first' ? ops.columns(reg, 4, 4 * c + 4) : ops.columns(reg, 0, 4 * c);
  }

  /** Column group of `fc_reg` holding the deltas of class `label` (in `fc_cls` order), or −1 for the background. */
  regGroup(label: number): number {
    const c = this.o.numClasses;
    const bgFirst = this.o.background === 'first';
    const fg = bgFirst ? label - 1 : label;
    if (fg < 0 || fg >= c) return -1;
    if (this.o.classAgnostic) return 0;
    return this.o.regWithBackground && bgFirst ? fg + 1 : fg;
  }

  /**
   * Training loss (mmdetection `BBoxHead.loss`, tfjs engine): softmax cross-entropy over all RoIs,
   * and the box loss of each positive RoI's deltas of its class (decoded first when
   * `o.decoded`), both averaged over all RoIs.
   */
  loss(ops: DetOps<tf.Tensor>, raw: BBoxRaw<tf.Tensor>, t: BBoxLossTargets, o: BBoxLossOptions): { loss_cls: tf.Tensor; loss_bbox: tf.Tensor } {
    const r = t.labels.length;
    const lossCls = crossEntropy(raw.cls, tf.tensor1d([...t.labels], 'int32'), { avgFactor: r, lossWeight: o.clsWeight });
    // A background RoI picks group 0: its weights are 0.
    const picked = ops.pickGroups(raw.reg, tf.tensor1d(t.labels.map((l) => Math.max(this.regGroup(l), 0))), 4);
    const pred = o.decoded ? decodeBoxes(ops, picked, tf.tensor2d(t.rois, [r, 4]), o.coder, null) : picked;
    const lossBbox = t.numPos === 0
      ? tf.mul(tf.sum(pred), 0)
      : boxLoss(pred, tf.tensor2d([...t.targets], [r, 4]), tf.tensor2d([...t.weights], [r, 4]), r, o.box);
    return { loss_cls: lossCls, loss_bbox: lossBbox };
  }

  /**
   * Foreground class probabilities [R, C] (softmax over C + 1, background dropped) and
   * foreground deltas [R, 4C] ([R, 4] when class-agnostic).
   */
  forward<T>(ops: DetOps<T>, roiFeats: T): { scores: T; deltas: T } {
    const r = this.raw(ops, roiFeats);
    return { scores: this.scores(ops, r.cls), deltas: this.deltas(ops, r.reg) };
  }
}
