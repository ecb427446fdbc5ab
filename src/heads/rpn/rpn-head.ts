/**
 * The RPN head shared by all levels (mmdetection `RPNHead`, torchvision `RPNHead`), `type: 'rpn'`:
 * a 3×3 conv with ReLU (`rpn_conv`), objectness logits with one sigmoid class per anchor
 * (`rpn_cls`) and box deltas (`rpn_reg`, 4 per anchor); anchors per level from its anchor
 * generator, proposals as ./proposals.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnchorGridSpec, DetOps } from '../../core/det-ops.js';
import { type AnchorOptions, anchorGridSpecs } from '../../core/det/anchors.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { resolveCoder } from '../../core/det/coder-config.js';
import { Conv2d } from '../../core/layers.js';
import { binaryCrossEntropy, type BoxLossSpec, boxLoss } from '../../core/tfjs/losses/index.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';
import type { RpnConventions, RpnHeadConfig, RpnHeadEntry } from './config.js';
import { rpnHeadSchema } from './config.js';
import type { RpnHead, RpnLevelTargets } from './contract.js';
import { type ProposalOptions, proposals } from './proposals.js';

export type { RpnLevelTargets } from './contract.js';

export interface AnchorRpnHeadOptions {
  inChannels: number;
  featChannels: number;
  anchors: AnchorOptions;
  test: Omit<ProposalOptions, 'coder'>;
  coder: BoxCoderOptions;
}

export class AnchorRpnHead implements RpnHead {
  readonly anchorGrids: readonly AnchorGridSpec[];
  readonly coder: BoxCoderOptions;
  readonly proposalOptions: ProposalOptions;
  readonly numAnchors: number;
  private readonly conv: Conv2d;
  private readonly cls: Conv2d;
  private readonly reg: Conv2d;

  constructor(scope: Scope, o: AnchorRpnHeadOptions) {
    const numAnchors = (this.numAnchors = o.anchors.ratios.length * o.anchors.scales.length);
    this.anchorGrids = anchorGridSpecs(o.anchors);
    this.coder = o.coder;
    this.proposalOptions = { ...o.test, coder: o.coder };
    this.conv = new Conv2d(scope.child('rpn_conv'), o.inChannels, o.featChannels, 3, { padding: 1, std: 0.01 });
    this.cls = new Conv2d(scope.child('rpn_cls'), o.featChannels, numAnchors, 1, { std: 0.01 });
    this.reg = new Conv2d(scope.child('rpn_reg'), o.featChannels, numAnchors * 4, 1, { std: 0.01 });
  }

  proposals<T>(ops: DetOps<T>, pyramid: readonly T[], image: T, imageSize: T): { boxes: T; scores: T } {
    const heads = pyramid.map((f) => this.forward(ops, f));
    return proposals(ops, pyramid, heads, this.anchorGrids, image, imageSize, this.proposalOptions);
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

/** The anchor, coder and test values of an `rpn` config, the profile's where unset. */
export function rpnValues(c: RpnHeadConfig, p: RpnConventions): RpnConventions {
  const ag = c.anchor_generator ?? {};
  const t = c.test ?? {};
  return {
    anchors: {
      scales: ag.scales ?? p.anchors.scales,
      ratios: ag.ratios ?? p.anchors.ratios,
      round: ag.round ?? p.anchors.round,
      centerOffset: ag.center_offset ?? p.anchors.centerOffset,
      strideMode: ag.stride_mode ?? p.anchors.strideMode,
    },
    rpnCoder: resolveCoder(c.bbox_coder, p.rpnCoder),
    rpnTest: {
      nmsPre: t.nms_pre ?? p.rpnTest.nmsPre,
      maxPerImg: t.max_per_img ?? p.rpnTest.maxPerImg,
      iouThr: t.iou_threshold ?? p.rpnTest.iouThr,
      minSize: t.min_bbox_size ?? p.rpnTest.minSize,
      minSizeInclusive: t.min_size_inclusive ?? p.rpnTest.minSizeInclusive,
    },
  };
}

/** The registry entry (`type: 'rpn'`): one anchor grid per pyramid level it reads. */
export const rpnHeadEntry: RpnHeadEntry<RpnHeadConfig> = {
  type: 'rpn',
  schema: rpnHeadSchema,
  build: (scope, upstream, c, ctx) => {
    const v = rpnValues(c, ctx.conventions);
    const channels = upstream[0].channels;
    return new AnchorRpnHead(scope, {
      inChannels: channels,
      featChannels: c.feat_channels ?? channels,
      anchors: { ...v.anchors, strides: upstream.map((s) => s.stride) },
      test: v.rpnTest,
      coder: v.rpnCoder,
    });
  },
  check: (upstream) => {
    const c = new Set(upstream.map((s) => s.channels));
    return c.size === 1 ? [] : [{ path: [], message: `one RPN head reads every level: they need one channel count (got ${[...c].join(', ')})` }];
  },
};
