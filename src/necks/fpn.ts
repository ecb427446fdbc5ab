/**
 * Feature Pyramid Network (Lin et al. 2017) as mmdetection's `FPN` and torchvision's
 * `FeaturePyramidNetwork` (+ `LastLevelMaxPool`) compute it: lateral 1×1 convs, top-down nearest
 * upsampling to the lower level's size and add, 3×3 output convs, then extra levels by max pool
 * (kernel 1, stride 2) of the last output. Parameter names as mmdetection:
 * `lateral_convs.i.conv`, `fpn_convs.i.conv`.
 */
import { z } from 'zod';
import type { Neck } from '../core/components.js';
import { type FeatureSpec, levelName, validateFeatureSpecs } from '../core/feature-spec.js';
import { Conv2d } from '../core/layers.js';
import type { Ops } from '../core/ops.js';
import type { Scope } from '../core/params.js';
import type { ComponentEntry } from '../core/registry.js';

export interface FpnOptions {
  /** Output channels of every level. */
  outChannels: number;
  /** Number of output levels (inputs plus max-pool extras); at least the number of inputs. */
  numOuts: number;
}

/** FPN over the levels of `inSpecs`; outputs are keyed by level name (p2 … p6). */
export class Fpn implements Neck {
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

/** Config of the FPN neck (mmdetection's `FPN`: `out_channels`, `num_outs`). */
export const fpnSchema = z
  .object({
    type: z.literal('fpn'),
    out_channels: z.number().int().positive().default(256),
    /** Output levels: the inputs plus max-pool extras; unset: one extra level. */
    num_outs: z.number().int().positive().optional(),
  })
  .strict();

export type FpnConfig = z.output<typeof fpnSchema>;

/** Registry entry of the FPN neck. */
export const fpnEntry: ComponentEntry<FpnConfig, Neck> = {
  type: 'fpn',
  schema: fpnSchema,
  build: (scope, upstream, o) => new Fpn(scope, upstream, { outChannels: o.out_channels, numOuts: o.num_outs ?? upstream.length + 1 }),
  keys: {
    // torchvision's FeaturePyramidNetwork: inner_blocks (laterals) and layer_blocks (outputs), with
    // a `.0` level before the parameter since torchvision 0.13.
    'torchvision-maskrcnn': (k) => {
      const m = /^(inner|layer)_blocks\.(\d+)\.(?:0\.)?(weight|bias)$/.exec(k);
      return m ? `${m[1] === 'inner' ? 'lateral_convs' : 'fpn_convs'}.${m[2]}.conv.${m[3]}` : null;
    },
  },
  check: (upstream, o) => (o.num_outs !== undefined && o.num_outs < upstream.length ? [{ path: ['num_outs'], message: `num_outs ${o.num_outs} is less than the ${upstream.length} backbone levels` }] : []),
};
