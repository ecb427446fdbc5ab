/**
 * FCNHead (mmsegmentation), used as the auxiliary head: `num_convs` ConvModules (`convs.k`),
 * optionally `conv_cat` over the input concatenated with their output, then dropout and
 * `conv_seg`. Input channels come from the backbone's feature spec.
 */
import type { FeatureSpec } from '../../core/feature-spec.js';
import { ConvModule } from '../../core/layers.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';
import { ClsSeg } from './decode-head.js';

export interface FCNHeadOptions {
  channels: number;
  numConvs: number;
  kernelSize: number;
  dilation: number;
  concatInput: boolean;
  numClasses: number;
  dropoutRatio: number;
}

export class FCNHead {
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

  /** Logits at the input level's resolution. */
  forward<T>(ops: Ops<T>, x: T): T {
    let y = x;
    for (const c of this.convs) y = c.forward(ops, y);
    if (this.convCat) y = this.convCat.forward(ops, ops.concat([x, y]));
    return this.cls.forward(ops, y);
  }
}
