/**
 * The Mask R-CNN training loss of a tiny model against PyTorch (tools/fixtures/gen_train_det.py:
 * mmdetection 2.x semantics written out in torch, float64): the five loss terms, the numbers of
 * sampled anchors, proposals, RoIs and positives, and gradients of the total loss for parameters
 * from the stem to the mask logits, on the wasm and cpu backends. Samplers are sized to take every
 * candidate, which is deterministic in mmdetection too.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfjsDetOps } from '../../src/core/tfjs/det-ops.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import { bindWeights } from '../../src/core/weights.js';
import type { HostTensor } from '../../src/core/host-tensor.js';
import type { DetectorConfig } from '../../src/config/detector.js';
import { resolveConfig } from '../../configs/index.js';
import { Detector } from '../../src/tasks/detection/detector.js';
import { detectorLosses } from '../../src/train/det/loss.js';
import { TrainRng } from '../../src/data/rng.js';
import { compare, PARITY_REL_TOL } from '../helpers.js';
import { type DetLossFixture, fixtureLosses, readDetLossFixture, TAKE_ALL_TRAIN, trainingBackend } from './det-fixture.js';

let fixture: DetLossFixture;

beforeAll(async () => {
  fixture = await readDetLossFixture('det_loss.safetensors');
});
const get = (name: string) => fixture.get(name);

describe.each(['wasm', 'cpu'])('Mask R-CNN training loss on %s', (backend) => {
  it('loss terms, sample counts and gradients match the PyTorch reference', async () => {
    await trainingBackend(backend);
    const cfg = resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', ['num_classes=4', 'class_names=["a","b","c","d"]']);
    if (cfg.type !== 'mask_rcnn') throw new Error('expected a detector');
    const det = new Detector(cfg);
    const before = tf.memory().numTensors;
    const params = new TfjsParams(bindWeights(det.scope.registry, fixture.weights()).weights, true);
    const { x, value, grads, grad, terms, info, names } = fixtureLosses(det, params, fixture);
    expect(info.rpnPos).toBe(get('info.rpn_pos.0').data[0] + get('info.rpn_pos.1').data[0]);
    expect(info.proposals).toEqual([get('info.proposals.0').data[0], get('info.proposals.1').data[0]]);
    expect(info.rois).toBe(get('info.rois.0').data[0] + get('info.rois.1').data[0]);
    expect(info.roiPos).toBe(get('info.roi_pos.0').data[0] + get('info.roi_pos.1').data[0]);
    for (const k of ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask']) {
      const e = get(`expected.${k}`).data[0];
      expect(Math.abs(terms[k] - e) / Math.abs(e), `${k}: ${terms[k]} vs ${e}`).toBeLessThan(PARITY_REL_TOL);
    }
    for (const n of names) {
      const g = grad(n);
      const c = compare({ shape: [...g.shape], data: new Float32Array(await g.data()) }, get(`grad.${n}`));
      expect(c.rel, `gradient of ${n}`).toBeLessThan(PARITY_REL_TOL);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("Mask R-CNN training loss in torchvision's class layout", () => {
  it('background first, with background rows in fc_reg and conv_logits: the same loss terms as the canonical layout', async () => {
    await trainingBackend('wasm');
    const base = ['num_classes=4', 'class_names=["a","b","c","d"]'];
    const layout = ['roi_head.bbox_head.background=first', 'roi_head.bbox_head.reg_with_background=true', 'roi_head.mask_head.with_background=true'];
    const w = fixture.weights();
    // The canonical weights in torchvision's layout: background logit first, zero rows for its deltas and mask.
    const moved = new Map(w);
    const rows = (t: HostTensor, order: number[]): HostTensor => {
      const k = t.data.length / t.shape[0];
      const data = new Float32Array(order.length * k);
      order.forEach((r, i) => { if (r >= 0) data.set(t.data.subarray(r * k, (r + 1) * k), i * k); });
      return { shape: [order.length, ...t.shape.slice(1)], data };
    };
    for (const p of ['weight', 'bias']) {
      const cls = w.get(`roi_head.bbox_head.fc_cls.${p}`)!;
      moved.set(`roi_head.bbox_head.fc_cls.${p}`, rows(cls, [4, 0, 1, 2, 3]));
      const reg = w.get(`roi_head.bbox_head.fc_reg.${p}`)!;
      moved.set(`roi_head.bbox_head.fc_reg.${p}`, rows(reg, [-1, -1, -1, -1, ...Array.from({ length: 16 }, (_, i) => i)]));
      const logits = w.get(`roi_head.mask_head.conv_logits.${p}`)!;
      moved.set(`roi_head.mask_head.conv_logits.${p}`, rows(logits, [-1, 0, 1, 2, 3]));
    }
    const terms: Array<Record<string, number>> = [];
    for (const [set, weights] of [[base, w], [[...base, ...layout], moved]] as const) {
      const det = new Detector(resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', [...set]) as DetectorConfig);
      const params = new TfjsParams(bindWeights(det.scope.registry, weights).weights, true);
      const ops = new TfjsDetOps(params, true);
      const x = fromHost(get('input'));
      tf.tidy(() => {
        const l = detectorLosses(det, ops, x, { sizes: fixture.sizes, gts: fixture.gts }, TAKE_ALL_TRAIN, new TrainRng(0));
        terms.push(Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.dataSync()[0]])));
      });
      x.dispose();
      params.dispose();
    }
    for (const k of ['loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask']) {
      expect(Math.abs(terms[1][k] - terms[0][k]) / Math.abs(terms[0][k]), `${k}: ${terms[1][k]} vs ${terms[0][k]}`).toBeLessThan(1e-6);
    }
  });
});
