/**
 * A neck defined outside the library, as a user would: per input level a 1×1 projection to
 * `out_channels` (`proj.{i}`), no top-down path, then `extra` levels by stride-2 subsampling of the
 * last one. It only uses the public contracts (Neck, ComponentEntry) and the op interface.
 */
import { z } from 'zod';
import type { Neck } from '../../src/core/components.js';
import { type FeatureSpec, levelName } from '../../src/core/feature-spec.js';
import { Conv2d } from '../../src/core/layers.js';
import type { Ops } from '../../src/core/ops.js';
import type { Scope } from '../../src/core/params.js';
import type { ComponentEntry } from '../../src/core/registry.js';

export const toyNeckSchema = z
  .object({
    type: z.literal('toy_proj'),
    out_channels: z.number().int().positive(),
    extra: z.number().int().min(0).default(1),
  })
  .strict();

type ToyNeckConfig = z.output<typeof toyNeckSchema>;

class ToyNeck implements Neck {
  readonly outSpecs: readonly FeatureSpec[];
  private readonly proj: Conv2d[];

  constructor(scope: Scope, readonly inSpecs: readonly FeatureSpec[], private readonly o: ToyNeckConfig) {
    this.proj = inSpecs.map((s, i) => new Conv2d(scope.child('proj').child(i), s.channels, o.out_channels, 1));
    const last = inSpecs[inSpecs.length - 1].stride;
    const extra = Array.from({ length: o.extra }, (_, k) => ({ name: levelName(last << (k + 1)), channels: o.out_channels, stride: last << (k + 1) }));
    this.outSpecs = [...inSpecs.map((s) => ({ name: s.name, channels: o.out_channels, stride: s.stride })), ...extra];
  }

  forward<T>(ops: Ops<T>, feats: Record<string, T>): T[] {
    const outs = this.inSpecs.map((s, i) => this.proj[i].forward(ops, feats[s.name]));
    for (let k = 0; k < this.o.extra; k++) outs.push(ops.maxPool(outs[outs.length - 1], { kernel: 1, stride: 2 }));
    return outs;
  }
}

export const toyNeckEntry: ComponentEntry<ToyNeckConfig, Neck> = {
  type: 'toy_proj',
  schema: toyNeckSchema,
  build: (scope, upstream, o) => new ToyNeck(scope, upstream, o),
};
