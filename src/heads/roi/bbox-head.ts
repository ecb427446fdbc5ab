/**
 * The box head (mmdetection `Shared2FCBBoxHead`, torchvision `TwoMLPHead` + `FastRCNNPredictor`):
 * RoI features flattened in (c, h, w) order, two fully connected layers with ReLU
 * (`shared_fcs.0`, `shared_fcs.1`), class logits (`fc_cls`, C + 1 with the background last or
 * first) and class-specific deltas (`fc_reg`, 4 per class, with or without the background).
 */
import { Linear } from '../../core/layers.js';
import type { DetOps } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';

export interface BBoxHeadOptions {
  inChannels: number;
  roiSize: number;
  fcChannels: number;
  numClasses: number;
  /** Where `fc_cls` puts the background class. */
  background: 'last' | 'first';
  /** `fc_reg` also predicts deltas for the background class (torchvision). */
  regWithBackground: boolean;
}

export class BBoxHead {
  private readonly fcs: Linear[];
  private readonly cls: Linear;
  private readonly reg: Linear;

  constructor(scope: Scope, readonly o: BBoxHeadOptions) {
    const inFeat = o.inChannels * o.roiSize * o.roiSize;
    const fc = scope.child('shared_fcs');
    this.fcs = [new Linear(fc.child(0), inFeat, o.fcChannels), new Linear(fc.child(1), o.fcChannels, o.fcChannels)];
    this.cls = new Linear(scope.child('fc_cls'), o.fcChannels, o.numClasses + 1, { std: 0.01 });
    this.reg = new Linear(scope.child('fc_reg'), o.fcChannels, (o.numClasses + (o.regWithBackground ? 1 : 0)) * 4, { std: 0.001 });
  }

  /**
   * Foreground class probabilities [R, C] (softmax over C + 1, background dropped) and
   * foreground deltas [R, 4C].
   */
  forward<T>(ops: DetOps<T>, roiFeats: T): { scores: T; deltas: T } {
    let x = ops.flatten(roiFeats);
    for (const fc of this.fcs) x = ops.relu(fc.forward(ops, x));
    const probs = ops.softmax(this.cls.forward(ops, x));
    const c = this.o.numClasses;
    const first = this.o.background === 'first';
    const scores = ops.columns(probs, first ? 1 : 0, first ? c + 1 : c);
    let deltas = this.reg.forward(ops, x);
    if (this.o.regWithBackground) deltas = ops.columns(deltas, first ? 4 : 0, first ? 4 * c + 4 : 4 * c);
    return { scores, deltas };
  }
}
