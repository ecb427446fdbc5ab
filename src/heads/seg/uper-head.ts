/**
 * UPerHead (Xiao et al. 2018, "Unified Perceptual Parsing"), with mmsegmentation's semantics and
 * parameter names: PPM (`psp_modules`) + `bottleneck` on the coarsest level; 1×1 `lateral_convs`
 * on the others; top-down bilinear upsample-add; 3×3 `fpn_convs`; all levels upsampled to the
 * finest and concatenated; 3×3 `fpn_bottleneck`; dropout; `conv_seg`. Input channels come from
 * the backbone's feature specs. Bilinear resizing uses align_corners=False throughout.
 */
import type { FeatureSpec } from '../../core/feature-spec.js';
import { resizeConcatConv } from '../../core/fused.js';
import { ConvModule } from '../../core/layers.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';
import { ClsSeg } from './decode-head.js';
import { PPM } from './ppm.js';

export interface UPerHeadOptions {
  /** Width of every internal map (512 in the ConvNeXt configs). */
  channels: number;
  poolScales: readonly number[];
  numClasses: number;
  /** Dropout before `conv_seg` while training. */
  dropoutRatio: number;
}

export class UPerHead {
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

  /** Logits at the finest input level's resolution; `feats` in the order of `inputs`. */
  forward<T>(ops: Ops<T>, feats: readonly T[]): T {
    if (feats.length !== this.inputs.length) throw new Error(`UPerHead: expected ${this.inputs.length} levels, got ${feats.length}`);
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
