/**
 * A backbone defined outside the library, as a user would: a stride-4 patchify conv (`stem`), then
 * three stride-2 convs (`stages.{i}`), each stage followed by GELU; `out_indices` stages are also
 * emitted through a 1×1 conv (`outs.{i}`). `frozen_stages` k freezes the stem and stages < k.
 * It only uses the public contracts (Backbone, BackboneConfig, ComponentEntry) and the op interface.
 */
import { z } from 'zod';
import type { Backbone } from '../../src/core/components.js';
import { type FeatureSpec, levelName } from '../../src/core/feature-spec.js';
import { Conv2d } from '../../src/core/layers.js';
import type { Ops } from '../../src/core/ops.js';
import type { Scope } from '../../src/core/params.js';
import type { ComponentEntry } from '../../src/core/registry.js';

export const toyBackboneSchema = z
  .object({
    type: z.literal('toy_patchify'),
    widths: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    in_channels: z.number().int().positive().default(3),
    out_indices: z.array(z.number().int().min(0).max(3)).min(1).optional(),
    frozen_stages: z.number().int().min(-1).max(4).default(-1),
  })
  .strict();

type ToyBackboneConfig = z.output<typeof toyBackboneSchema>;

function stageSpecs(o: ToyBackboneConfig): FeatureSpec[] {
  return o.widths.map((c, i) => ({ name: levelName(4 << i), channels: c, stride: 4 << i }));
}

class ToyBackbone implements Backbone {
  readonly stageSpecs: readonly FeatureSpec[];
  readonly featureSpecs: readonly FeatureSpec[];
  private readonly convs: Conv2d[];
  private readonly outs = new Map<number, Conv2d>();

  constructor(scope: Scope, private readonly o: ToyBackboneConfig) {
    this.stageSpecs = stageSpecs(o);
    const w = o.widths;
    this.convs = [
      new Conv2d(scope.child('stem'), o.in_channels, w[0], 4, { stride: 4 }),
      ...[1, 2, 3].map((i) => new Conv2d(scope.child('stages').child(i), w[i - 1], w[i], 2, { stride: 2 })),
    ];
    for (const i of o.out_indices ?? []) this.outs.set(i, new Conv2d(scope.child('outs').child(i), w[i], w[i], 1));
    this.featureSpecs = (o.out_indices ?? []).map((i) => this.stageSpecs[i]);
  }

  stagesForward<T>(ops: Ops<T>, x: T): T[] {
    const out: T[] = [];
    for (const c of this.convs) out.push((x = ops.gelu(c.forward(ops, x))));
    return out;
  }

  forward<T>(ops: Ops<T>, x: T): Record<string, T> {
    const st = this.stagesForward(ops, x);
    return Object.fromEntries((this.o.out_indices ?? []).map((i) => [this.stageSpecs[i].name, this.outs.get(i)!.forward(ops, st[i])]));
  }

  isFrozen(name: string): boolean {
    const k = this.o.frozen_stages;
    if (k < 0) return false;
    if (name.startsWith('stem.')) return true;
    const m = /^(stages|outs)\.(\d)\./.exec(name);
    return m !== null && Number(m[2]) < k;
  }
}

export const toyBackboneEntry: ComponentEntry<ToyBackboneConfig, Backbone> = {
  type: 'toy_patchify',
  schema: toyBackboneSchema,
  build: (scope, _upstream, o) => new ToyBackbone(scope, o),
  outSpecs: (_upstream, o) => {
    const all = stageSpecs(o);
    return o.out_indices ? o.out_indices.map((i) => all[i]) : all;
  },
};
