/**
 * FCNHead (mmsegmentation), used as the auxiliary head: `num_convs` ConvModules (`convs.k`),
 * optionally `conv_cat` over the input concatenated with their output, then dropout and
 * `conv_seg`. Input channels come from the backbone's feature spec.
 */
import { z } from 'zod';
import type { DecodeHead, DecodeHeadContext } from '../../core/components.js';
import type { FeatureSpec } from '../../core/feature-spec.js';
import { ConvModule } from '../../core/layers.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';
import type { ComponentEntry } from '../../core/registry.js';
import { ClsSeg, decodeHeadFields, decodeHeadLoss, type DecodeLossOptions, decodeLossOptions } from './decode-head.js';

export interface FCNHeadOptions {
  channels: number;
  numConvs: number;
  kernelSize: number;
  dilation: number;
  concatInput: boolean;
  numClasses: number;
  dropoutRatio: number;
  /** Loss weight and class weights of the training loss. */
  loss: DecodeLossOptions;
}

export class FCNHead implements DecodeHead {
  readonly convs: ConvModule[] = [];
  readonly convCat: ConvModule | null;
  readonly cls: ClsSeg;

  /** `input`: the spec of the level this head reads. */
  constructor(scope: Scope, readonly input: FeatureSpec, readonly opts: FCNHeadOptions) {
    if (opts.numConvs < 1) throw new Error('FCNHead: num_convs must be at least 1');
    const pad = Math.floor(opts.kernelSize / 2) * opts.dilation;
    const conv = { padding: pad, dilation: opts.dilation };
    for (let k = 0; k < opts.numConvs; k++) {
      this.convs.push(new ConvModule(scope.child('convs').child(k), k === 0 ? input.channels : opts.channels, opts.channels, opts.kernelSize, conv));
    }
    // mmseg pads conv_cat by kernel_size // 2 without dilation.
    this.convCat = opts.concatInput
      ? new ConvModule(scope.child('conv_cat'), input.channels + opts.channels, opts.channels, opts.kernelSize, { padding: Math.floor(opts.kernelSize / 2) })
      : null;
    this.cls = new ClsSeg(scope, opts.channels, opts.numClasses, opts.dropoutRatio);
  }

  loss(ops: Ops<tf.Tensor>, logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number): tf.Tensor {
    return decodeHeadLoss(ops, logits, labels, ignoreIndex, this.opts.loss);
  }

  get inSpecs(): readonly FeatureSpec[] {
    return [this.input];
  }

  /** Logits at the input level's resolution, from the upstream levels keyed by name. */
  forward<T>(ops: Ops<T>, levels: Readonly<Record<string, T>>): T {
    const x: T | undefined = levels[this.input.name];
    if (x === undefined) throw new Error(`FCNHead: missing input level ${this.input.name}`);
    let y: T = x;
    for (const c of this.convs) y = c.forward(ops, y);
    if (this.convCat) y = this.convCat.forward(ops, ops.concat([x, y]));
    return this.cls.forward(ops, y);
  }
}

/** Config of FCNHead (mmsegmentation's defaults of the UPerNet ConvNeXt configs' auxiliary head). */
export const fcnHeadSchema = z
  .object({
    type: z.literal('fcn'),
    /** Upstream level used, by position in the backbone's output order. */
    in_index: z.number().int().min(0).default(2),
    channels: z.number().int().positive().default(256),
    num_convs: z.number().int().positive().default(1),
    kernel_size: z.number().int().positive().default(3),
    dilation: z.number().int().positive().default(1),
    concat_input: z.boolean().default(false),
    ...decodeHeadFields(0.4),
  })
  .strict()
  .refine((c) => c.kernel_size % 2 === 1, { message: 'kernel_size must be odd', path: ['kernel_size'] });

export type FCNHeadConfig = z.output<typeof fcnHeadSchema>;

/** Registry entry of FCNHead. */
export const fcnHeadEntry: ComponentEntry<FCNHeadConfig, DecodeHead, DecodeHeadContext> = {
  type: 'fcn',
  schema: fcnHeadSchema,
  build: (scope, upstream, o, ctx) => new FCNHead(scope, upstream[o.in_index], {
    channels: o.channels,
    numConvs: o.num_convs,
    kernelSize: o.kernel_size,
    dilation: o.dilation,
    concatInput: o.concat_input,
    numClasses: ctx.numClasses,
    dropoutRatio: o.dropout_ratio,
    loss: decodeLossOptions(o),
  }),
  check: (upstream, o) => (o.in_index >= upstream.length ? [{ path: ['in_index'], message: `level ${o.in_index} does not exist: the backbone has ${upstream.length} outputs (${upstream.map((s) => s.name).join(', ')})` }] : []),
};
