/**
 * UPerHead (Xiao et al. 2018, "Unified Perceptual Parsing"), with mmsegmentation's semantics and
 * parameter names: PPM (`psp_modules`) + `bottleneck` on the coarsest level; 1×1 `lateral_convs`
 * on the others; top-down bilinear upsample-add; 3×3 `fpn_convs`; all levels upsampled to the
 * finest and concatenated; 3×3 `fpn_bottleneck`; dropout; `conv_seg`. Input channels come from
 * the backbone's feature specs. Bilinear resizing uses align_corners=False throughout.
 */
import { z } from 'zod';
import type { DecodeHead, DecodeHeadContext } from '../../core/components.js';
import type { FeatureSpec } from '../../core/feature-spec.js';
import { resizeConcatConv } from '../../core/fused.js';
import { ConvModule } from '../../core/layers.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';
import type { ComponentEntry, ComponentIssue } from '../../core/registry.js';
import { ClsSeg, decodeHeadFields, decodeHeadLoss, type DecodeLossOptions, decodeLossOptions } from './decode-head.js';
import { PPM } from './ppm.js';

export interface UPerHeadOptions {
  /** Width of every internal map (512 in the ConvNeXt configs). */
  channels: number;
  poolScales: readonly number[];
  numClasses: number;
  /** Dropout before `conv_seg` while training. */
  dropoutRatio: number;
  /** Loss weight and class weights of the training loss. */
  loss: DecodeLossOptions;
}

export class UPerHead implements DecodeHead {
  readonly psp: PPM;
  readonly bottleneck: ConvModule;
  readonly lateralConvs: ConvModule[] = [];
  readonly fpnConvs: ConvModule[] = [];
  readonly fpnBottleneck: ConvModule;
  readonly cls: ClsSeg;

  /** `inputs`: the specs of the levels this head reads, finest first. */
  constructor(scope: Scope, readonly inputs: readonly FeatureSpec[], readonly opts: UPerHeadOptions) {
    if (inputs.length < 2) throw new Error('UPerHead: needs at least two input levels');
    const c = opts.channels;
    const top = inputs[inputs.length - 1].channels;
    this.psp = new PPM(scope.child('psp_modules'), opts.poolScales, top, c);
    this.bottleneck = new ConvModule(scope.child('bottleneck'), top + opts.poolScales.length * c, c, 3, { padding: 1 });
    inputs.slice(0, -1).forEach((spec, i) => {
      this.lateralConvs.push(new ConvModule(scope.child('lateral_convs').child(i), spec.channels, c, 1));
      this.fpnConvs.push(new ConvModule(scope.child('fpn_convs').child(i), c, c, 3, { padding: 1 }));
    });
    this.fpnBottleneck = new ConvModule(scope.child('fpn_bottleneck'), inputs.length * c, c, 3, { padding: 1 });
    this.cls = new ClsSeg(scope, c, opts.numClasses, opts.dropoutRatio);
  }

  loss(ops: Ops<tf.Tensor>, logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number): tf.Tensor {
    return decodeHeadLoss(ops, logits, labels, ignoreIndex, this.opts.loss);
  }

  get inSpecs(): readonly FeatureSpec[] {
    return this.inputs;
  }

  /** Logits at the finest input level's resolution, from the upstream levels keyed by name. */
  forward<T>(ops: Ops<T>, levels: Readonly<Record<string, T>>): T {
    const feats = this.inputs.map((s) => {
      const f = levels[s.name];
      if (f === undefined) throw new Error(`UPerHead: missing input level ${s.name}`);
      return f;
    });
    const n = feats.length;
    const laterals = this.lateralConvs.map((conv, i) => conv.forward(ops, feats[i]));
    const top = feats[n - 1];
    laterals.push(this.bottleneck.forward(ops, ops.concat([top, ...this.psp.forward(ops, top)])));
    for (let i = n - 1; i > 0; i--) {
      laterals[i - 1] = ops.add(laterals[i - 1], ops.resize(laterals[i], { like: laterals[i - 1] }, 'bilinear', false));
    }
    const outs = this.fpnConvs.map((conv, i) => conv.forward(ops, laterals[i]));
    outs.push(laterals[n - 1]);
    const fused = this.fuse(ops, outs);
    return this.cls.forward(ops, fused);
  }

  /**
   * fpn_bottleneck(concat(outs[0], upsample(outs[1..]) to outs[0]'s size)), through the fused op so
   * that an engine may apply the 3×3 kernel before upsampling (the head's largest cost otherwise).
   */
  private fuse<T>(ops: Ops<T>, outs: readonly T[]): T {
    const b = this.fpnBottleneck;
    let y = resizeConcatConv(ops, outs, outs.map(() => this.opts.channels), b.conv.weight, b.conv.bias, b.conv.opts);
    if (b.bn) y = b.bn.forward(ops, y);
    return b.act === 'relu' ? ops.relu(y) : y;
  }
}

/** Config of UPerHead (mmsegmentation's defaults of the UPerNet ConvNeXt configs). */
export const uperHeadSchema = z
  .object({
    type: z.literal('uper'),
    /** Upstream levels used, by position in the backbone's output order (default: all, finest first). */
    in_index: z.array(z.number().int().min(0)).min(2).optional(),
    channels: z.number().int().positive().default(512),
    pool_scales: z.array(z.number().int().positive()).min(1).default([1, 2, 3, 6]),
    ...decodeHeadFields(1.0),
  })
  .strict();

export type UPerHeadConfig = z.output<typeof uperHeadSchema>;

/** Registry entry of UPerHead. */
export const uperHeadEntry: ComponentEntry<UPerHeadConfig, DecodeHead, DecodeHeadContext> = {
  type: 'uper',
  schema: uperHeadSchema,
  build: (scope, upstream, o, ctx) => new UPerHead(scope, (o.in_index ?? upstream.map((_, i) => i)).map((i) => upstream[i]), {
    channels: o.channels,
    poolScales: o.pool_scales,
    numClasses: ctx.numClasses,
    dropoutRatio: o.dropout_ratio,
    loss: decodeLossOptions(o),
  }),
  check: (upstream, o) => {
    const levels = o.in_index ?? upstream.map((_, i) => i);
    const issues: ComponentIssue[] = levels.length < 2 ? [{ path: ['in_index'], message: 'UPerHead needs at least two levels' }] : [];
    levels.forEach((i, k) => {
      if (i >= upstream.length) issues.push({ path: ['in_index', k], message: `level ${i} does not exist: the backbone has ${upstream.length} outputs (${upstream.map((s) => s.name).join(', ')})` });
      if (k > 0 && i <= levels[k - 1]) issues.push({ path: ['in_index', k], message: 'in_index must increase (finest level first)' });
    });
    return issues;
  },
};
