/**
 * The decode-head registry: a head defined here, outside the library (a 1×1 classifier on one
 * level), registered with one line, serves as a segmentor's auxiliary head by `type`; option typos
 * and level checks fail with their paths; the segmentor runs on both engines with the same logits,
 * and the head's outputs have the declared level's resolution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { resolveConfig } from '../../../configs/index.js';
import type { DecodeHead, DecodeHeadContext } from '../../../src/core/components.js';
import { createRunner, type Runner } from '../../../src/core/engine.js';
import type { FeatureSpec } from '../../../src/core/feature-spec.js';
import { Conv2d } from '../../../src/core/layers.js';
import type { Ops } from '../../../src/core/ops.js';
import type { Scope } from '../../../src/core/params.js';
import type { ComponentEntry } from '../../../src/core/registry.js';
import { initWeights } from '../../../src/core/weights.js';
import type { SegmentorConfig } from '../../../src/config/segmentor.js';
import { DECODE_HEADS } from '../../../src/heads/seg/index.js';
import { decodeHeadLoss } from '../../../src/heads/seg/decode-head.js';
import { Segmentor } from '../../../src/tasks/segmentation/segmentor.js';
import { maxDiff } from '../det-harness.js';

const schema = z
  .object({
    type: z.literal('toy_linear'),
    in_index: z.number().int().min(0),
    dropout_ratio: z.number().default(0),
    loss_weight: z.number().default(0.4),
    class_weight: z.array(z.number()).optional(),
  })
  .strict();
type ToyConfig = z.output<typeof schema>;

class ToyLinear implements DecodeHead {
  readonly inSpecs: readonly FeatureSpec[];
  private readonly conv: Conv2d;

  constructor(scope: Scope, level: FeatureSpec, numClasses: number, private readonly lossWeight: number) {
    this.inSpecs = [level];
    this.conv = new Conv2d(scope.child('linear'), level.channels, numClasses, 1);
  }

  forward<T>(ops: Ops<T>, feats: Readonly<Record<string, T>>): T {
    return this.conv.forward(ops, feats[this.inSpecs[0].name]);
  }

  loss(ops: Ops<tf.Tensor>, logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number): tf.Tensor {
    return decodeHeadLoss(ops, logits, labels, ignoreIndex, { lossWeight: this.lossWeight });
  }
}

const entry: ComponentEntry<ToyConfig, DecodeHead, DecodeHeadContext> = {
  type: 'toy_linear',
  schema,
  build: (scope, upstream, o, ctx) => new ToyLinear(scope, upstream[o.in_index], ctx.numClasses, o.loss_weight),
  check: (upstream, o) => (o.in_index >= upstream.length ? [{ path: ['in_index'], message: `no level ${o.in_index}` }] : []),
};

const runners: Runner[] = [];
beforeAll(() => {
  if (!DECODE_HEADS.types().includes('toy_linear')) DECODE_HEADS.register(entry);
});
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

describe('a decode head registered from outside the library', () => {
  const aux = (o: string) => [`auxiliary_head=${o}`];

  it('parses by type; typos and missing levels fail with their path', () => {
    expect(() => resolveConfig('test_upernet_convnext-narrow_cls5', aux('{"type":"toy_linear","in_index":1,"dropout":0}'))).toThrow(/auxiliary_head: unknown key\(s\) 'dropout'/);
    expect(() => resolveConfig('test_upernet_convnext-narrow_cls5', aux('{"type":"toy_linear","in_index":9}'))).toThrow(/auxiliary_head\.in_index: no level 9/);
  });

  it('runs as the auxiliary head on both engines with the same logits at its level\'s resolution', async () => {
    const cfg = resolveConfig('test_upernet_convnext-narrow_cls5', aux('{"type":"toy_linear","in_index":1}')) as SegmentorConfig;
    const seg = new Segmentor(cfg);
    const level = seg.auxiliaryHead!.inSpecs[0];
    expect(seg.scope.registry.get('auxiliary_head.linear.weight')?.shape).toEqual([cfg.num_classes, level.channels, 1, 1]);
    const net = seg.network({ auxiliary: true, upsample: false });
    const weights = initWeights(net.registry, 2);
    const [h, w] = [64, 96];
    const input = { shape: [1, 3, h, w], data: Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.05)) };
    const outs = [];
    for (const engine of ['ort', 'tfjs'] as const) {
      const r = await createRunner(engine, net, weights, { backend: 'wasm' });
      runners.push(r);
      outs.push(await r.run(input));
    }
    expect(outs[0].aux_logits.shape).toEqual([1, cfg.num_classes, h / level.stride, w / level.stride]);
    expect(outs[1].aux_logits.shape).toEqual(outs[0].aux_logits.shape);
    expect(maxDiff(outs[1].aux_logits.data, outs[0].aux_logits.data)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(outs[1].logits.data, outs[0].logits.data)).toBeLessThanOrEqual(1e-4);
  });
});
