/**
 * RoIAlign against torchvision.ops.roi_align (tools/fixtures/gen_det_units.py): aligned true and
 * false, sampling ratio adaptive (0) and 2, RoIs inside, across the border, tiny, empty and larger
 * than the map; and the multi-level form with mmdetection's level mapping
 * (floor(log2(√(wh)/56 + 1e-6)), aligned, adaptive), RoIs put back in their order. Both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { mapRoiLevels } from '../../../src/heads/roi/levels.js';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/core/tfjs/backend.js';
import { TfjsDetOps } from '../../../src/core/tfjs/det-ops.js';
import { TfjsParams } from '../../../src/core/tfjs/params.js';
import { ensureGradients } from '../../../src/core/tfjs/grad/gradients.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { FIXTURES } from '../../helpers.js';
import { maxDiff, runDet } from '../det-harness.js';

let ref: Map<string, HostTensor>;
beforeAll(async () => {
  ref = (await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'))).tensors;
});

const VARIANTS = [
  { name: 'aligned.sr0', aligned: true, samplingRatio: 0 },
  { name: 'aligned.sr2', aligned: true, samplingRatio: 2 },
  { name: 'legacy.sr0', aligned: false, samplingRatio: 0 },
  { name: 'legacy.sr2', aligned: false, samplingRatio: 2 },
];

describe.each(ENGINES)('RoIAlign on %s', (engine) => {
  it.each(VARIANTS)('single level, $name', async ({ name, aligned, samplingRatio }) => {
    const rois = ref.get('roi.rois')!;
    const out = await runDet(engine, {
      feat: ref.get('roi.feat')!, rois, levels: { shape: [rois.shape[0]], data: new Float32Array(rois.shape[0]) },
    }, (ops, x) => ({ pooled: ops.roiAlign([x.feat], x.rois, x.levels, { output: 7, scales: [0.25], samplingRatio, aligned }) }));
    const exp = ref.get(`roi.out.${name}`)!;
    expect(out.pooled.shape).toEqual(exp.shape);
    const err = maxDiff(out.pooled.data, exp.data);
    console.log(`${engine} ${name}: max abs err ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('multi-level with mmdetection level mapping', async () => {
    const feats = [2, 3, 4, 5].map((l) => ref.get(`mroi.feat.p${l}`)!);
    const out = await runDet(engine, { p2: feats[0], p3: feats[1], p4: feats[2], p5: feats[3], rois: ref.get('mroi.rois')! }, (ops, x) => {
      const levels = mapRoiLevels(ops, x.rois, 4, { type: 'mmdet', finestScale: 56 });
      return {
        levels,
        pooled: ops.roiAlign([x.p2, x.p3, x.p4, x.p5], x.rois, levels, { output: 7, scales: [1 / 4, 1 / 8, 1 / 16, 1 / 32], samplingRatio: 0, aligned: true }),
      };
    });
    expect(Array.from(out.levels.data)).toEqual(Array.from(ref.get('mroi.levels')!.data));
    expect(new Set(out.levels.data).size).toBe(4);
    const err = maxDiff(out.pooled.data, ref.get('mroi.out')!.data);
    console.log(`${engine} multi-level: max abs err ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('no RoIs gives an empty result', async () => {
    const out = await runDet(engine, {
      feat: ref.get('roi.feat')!, rois: { shape: [0, 4], data: new Float32Array(0) }, levels: { shape: [0], data: new Float32Array(0) },
    }, (ops, x) => ({ pooled: ops.roiAlign([x.feat], x.rois, x.levels, { output: 7, scales: [0.25], samplingRatio: 2, aligned: false }) }));
    expect(out.pooled.shape).toEqual([0, 4, 7, 7]);
  });
});

describe('RoIAlign gradients (tfjs)', () => {
  it('reach the features: each bin spreads a total weight of 1 for a RoI inside the map', async () => {
    await initBackend('wasm');
    await ensureGradients();
    const ops = new TfjsDetOps(new TfjsParams(new Map()), true);
    const feat = tf.randomNormal([1, 12, 17, 3], 0, 1, 'float32', 5);
    const rois = tf.tensor2d([[8, 8, 40, 30], [20, 4, 60, 44]]);
    const levels = tf.zeros([2]);
    for (const aligned of [true, false]) {
      const grad = tf.grad((f: tf.Tensor) => tf.sum(ops.roiAlign([f], rois, levels, { output: 7, scales: [0.25], samplingRatio: 0, aligned })))(feat);
      // d(sum of outputs)/d(features), summed: 2 RoIs × 49 bins × 3 channels × 1.
      expect(tf.sum(grad).dataSync()[0]).toBeCloseTo(2 * 49 * 3, 3);
      expect(tf.min(grad).dataSync()[0]).toBeGreaterThanOrEqual(0);
    }
  });
});
