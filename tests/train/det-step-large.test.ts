/**
 * One training step of an mmdetection-convention Mask R-CNN at 512×512 on the wasm backend, with
 * FPN and heads of 256 channels and the default training recipe (RPN 256 samples, 2000 proposals,
 * 512 RoIs): ground truths from 24 px to 460 px make RoIAlign sample adaptively on every level.
 * Exactness of the loss and gradients is the job of det-loss.test.ts (PyTorch reference); this
 * one checks that a real-sized step runs, every term and gradient is finite, the backbone's first
 * block gets a gradient, and no tensor is left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTraining } from '../../src/core/tfjs/grad/index.js';
import { TfjsDetOps } from '../../src/core/tfjs/det-ops.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import { initWeights } from '../../src/core/weights.js';
import { resolveConfig } from '../../configs/index.js';
import { Detector } from '../../src/tasks/detection/detector.js';
import { detTrainSchema } from '../../src/train/det/config.js';
import { type DetLossInfo, detectorLosses } from '../../src/train/det/loss.js';
import type { GtInstances } from '../../src/train/det/targets.js';
import { installTrainGradients } from '../../src/train/grad-fixes.js';
import { TrainRng } from '../../src/data/rng.js';

const S = 512;

function gt(boxes: number[][]): GtInstances {
  const masks = boxes.map(([x1, y1, x2, y2]) => {
    const m = new Uint8Array(S * S);
    const [cx, cy, rx, ry] = [(x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2];
    for (let y = Math.floor(y1); y < y2; y++) for (let x = Math.floor(x1); x < x2; x++) m[y * S + x] = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 ? 1 : 0;
    return m;
  });
  return { boxes: Float32Array.from(boxes.flat()), labels: Int32Array.from(boxes.map((_, i) => i % 5)), masks, maskHeight: S, maskWidth: S };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await prepareTraining();
  installTrainGradients();
});

describe('Mask R-CNN training step at 512×512 on wasm (mmdetection conventions)', () => {
  it('runs with finite losses and gradients and leaves no tensors', async () => {
    const cfg = resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', ['neck.out_channels=256', 'rpn_head.feat_channels=256', 'roi_head.mask_head.conv_out_channels=256']);
    if (cfg.type !== 'mask_rcnn') throw new Error('expected a detector');
    const det = new Detector(cfg);
    const before = tf.memory().numTensors;
    const params = new TfjsParams(initWeights(det.scope.registry, 7), true);
    const ops = new TfjsDetOps(params, true);
    const n = 3 * S * S;
    const x = fromHost({ shape: [1, 3, S, S], data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.0007) * 2 + Math.cos((i % S) * 0.05)) });
    const batch = { sizes: [[S, S] as [number, number]], gts: [gt([[10, 12, 34, 40], [40, 200, 150, 330], [30, 30, 490, 480], [300, 60, 500, 260]])] };
    const early = params.variables().get('backbone.stages.0.0.dwconv.weight')!;
    const info = {} as DetLossInfo;
    let terms: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const l = detectorLosses(det, ops, x, batch, detTrainSchema.parse({}), new TrainRng(0), info);
      terms = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.dataSync()[0]]));
      return tf.addN(Object.values(l)) as tf.Scalar;
    });
    console.log('512×512 step:', terms, `RoIs ${info.rois}, positives ${info.roiPos}, proposals ${info.proposals}`);
    for (const k of ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask']) {
      expect(Number.isFinite(terms[k]), k).toBe(true);
      expect(terms[k], k).toBeGreaterThan(0);
    }
    expect(info.roiPos).toBeGreaterThan(0);
    expect(info.rois).toBe(512);
    let total = 0;
    for (const g of Object.values(grads)) {
      const d = g.dataSync();
      for (let i = 0; i < d.length; i++) total += d[i] * d[i];
    }
    expect(Number.isFinite(total)).toBe(true);
    expect(grads[early.name], 'a gradient for the first block').toBeDefined();
    expect(grads[early.name].dataSync().some((v) => v !== 0)).toBe(true);
    tf.dispose([x, value, ...Object.values(grads)]);
    params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
