/**
 * Feature Pyramid Network (Lin et al. 2017) as mmdetection's `FPN` and torchvision's
 * `FeaturePyramidNetwork` (+ `LastLevelMaxPool`) compute it: lateral 1×1 convs, top-down nearest
 * upsampling to the lower level's size and add, 3×3 output convs, then extra levels by max pool
 * (kernel 1, stride 2) of the last output. Parameter names as mmdetection:
 * `lateral_convs.i.conv`, `fpn_convs.i.conv`.
 */
import { type FeatureSpec, levelName, validateFeatureSpecs } from '../core/feature-spec.js';
import { Conv2d } from '../core/layers.js';
import type { Ops } from '../core/ops.js';
import type { Scope } from '../core/params.js';

export interface FpnOptions {
  /** Output channels of every level. */
  outChannels: number;
  /** Number of output levels (inputs plus max-pool extras); at least the number of inputs. */
  numOuts: number;
}

/** FPN over the levels of `inSpecs`; outputs are keyed by level name (p2 … p6). */
export class Fpn {
  readonly inSpecs: readonly FeatureSpec[];
  readonly outSpecs: readonly FeatureSpec[];
  private readonly laterals: Conv2d[] = [];
  private readonly outputs: Conv2d[] = [];

  constructor(scope: Scope, inSpecs: readonly FeatureSpec[], opts: FpnOptions) {
    this.inSpecs = validateFeatureSpecs('fpn input', inSpecs);
    if (opts.numOuts < inSpecs.length) {
      throw new Error(`fpn: num_outs ${opts.numOuts} is less than the ${inSpecs.length} input levels`);
    }
    inSpecs.forEach((s, i) => {
      this.laterals.push(new Conv2d(scope.child('lateral_convs').child(i).child('conv'), s.channels, opts.outChannels, 1));
      this.outputs.push(new Conv2d(scope.child('fpn_convs').child(i).child('conv'), opts.outChannels, opts.outChannels, 3, { padding: 1 }));
    });
    const last = inSpecs[inSpecs.length - 1].stride;
    const specs: FeatureSpec[] = inSpecs.map((s) => ({ name: s.name, channels: opts.outChannels, stride: s.stride }));
    for (let k = 1; k <= opts.numOuts - inSpecs.length; k++) {
      const stride = last << k;
      specs.push({ name: levelName(stride), channels: opts.outChannels, stride });
    }
    this.outSpecs = validateFeatureSpecs('fpn output', specs);
  }

  /** Runs the neck on features keyed by level name (the inputs' names); returns outputs in stride order. */
  forward<T>(ops: Ops<T>, feats: Record<string, T>): T[] {
    const lat = this.inSpecs.map((s, i) => {
      const f = feats[s.name];
      if (f === undefined) throw new Error(`fpn: missing input level ${s.name}`);
      return this.laterals[i].forward(ops, f);
    });
    for (let i = lat.length - 1; i > 0; i--) {
      lat[i - 1] = ops.add(lat[i - 1], ops.resize(lat[i], { like: lat[i - 1] }, 'nearest'));
    }
    const outs = lat.map((l, i) => this.outputs[i].forward(ops, l));
    while (outs.length < this.outSpecs.length) outs.push(ops.maxPool(outs[outs.length - 1], { kernel: 1, stride: 2 }));
    return outs;
  }
}
