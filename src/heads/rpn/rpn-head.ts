/**
 * The RPN head shared by all levels (mmdetection `RPNHead`, torchvision `RPNHead`): a 3×3 conv
 * with ReLU (`rpn_conv`), objectness logits with one sigmoid class per anchor (`rpn_cls`) and box
 * deltas (`rpn_reg`, 4 per anchor).
 */
import { Conv2d } from '../../core/layers.js';
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
}
