/**
 * Detector behaviour beyond the torchvision oracle: the mmdetection conventions run the same on
 * both engines; the single-input ONNX graph (what `convnext export` writes) gives the engine's
 * detections; empty results, a 1×1 image, extreme aspect ratios; preprocessing sizes worked out
 * by hand; COCO result encoding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { sessionOptions } from '../../../src/core/ort/runner.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { bindWeights, type WeightMap } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import type { DetectorConfig } from '../../../src/config/detector.js';
import { Detector } from '../../../src/tasks/detection/detector.js';
import { type RawDetections } from '../../../src/tasks/detection/detector-runner.js';
import { regionToRle, toCocoResults } from '../../../src/tasks/detection/detector-predict.js';
import { resizedSize } from '../../../src/image/sizes.js';
import { regionToFull } from '../../../src/core/det/paste.js';
import { encodeMask } from '../../../src/io/coco/rle.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import type { RgbImage } from '../../../src/image/rgb.js';
import { FIXTURES, loadIo } from '../../helpers.js';
import { maxDiff } from '../../heads/det-harness.js';
import { createDetectorPredictor, createDetectorRunner } from '../../../src/tasks/detection/detector-engine.js';

const DIR = join(FIXTURES, 'det');
let tvWeights: Map<string, HostTensor>;
let input: HostTensor;
beforeAll(async () => {
  tvWeights = (await loadWeights(join(DIR, 'tv_maskrcnn.pth'))).tensors;
  input = (await loadIo(join(DIR, 'tv_maskrcnn_75x101.io.safetensors'))).input;
});
const disposers: Array<() => unknown> = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

/**
 * Canonical weights in torchvision's own class layout: background logit first, zero background
 * deltas and mask channel in front (the values a background-first config reads and ignores).
 */
function toTorchvisionLayout(w: Map<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map(w);
  const reorder = (t: HostTensor, order: number[]): HostTensor => {
    const k = t.data.length / t.shape[0];
    const data = new Float32Array(order.length * k);
    order.forEach((r, i) => { if (r >= 0) data.set(t.data.subarray(r * k, (r + 1) * k), i * k); });
    return { shape: [order.length, ...t.shape.slice(1)], data };
  };
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  for (const p of ['weight', 'bias']) {
    const cls = w.get(`roi_head.bbox_head.fc_cls.${p}`)!;
    out.set(`roi_head.bbox_head.fc_cls.${p}`, reorder(cls, [cls.shape[0] - 1, ...range(0, cls.shape[0] - 1)]));
    const reg = w.get(`roi_head.bbox_head.fc_reg.${p}`)!;
    out.set(`roi_head.bbox_head.fc_reg.${p}`, reorder(reg, [-1, -1, -1, -1, ...range(0, reg.shape[0])]));
    const logits = w.get(`roi_head.mask_head.conv_logits.${p}`)!;
    out.set(`roi_head.mask_head.conv_logits.${p}`, reorder(logits, [-1, ...range(0, logits.shape[0])]));
  }
  return out;
}

/** The tiny detector of `name` with the oracle's weights (missing norm{i} of dense configs initialised). */
function build(name: string, set: string[] = []): { det: Detector; weights: WeightMap } {
  const det = new Detector(resolveConfig(name, set) as DetectorConfig);
  const src = det.roiHead.stages[0].bbox.o.background === 'first' ? toTorchvisionLayout(tvWeights) : tvWeights;
  const { weights } = bindWeights(det.scope.registry, src, { allowMissing: true, seed: 3 });
  return { det, weights };
}

async function runBoth(name: string, set: string[], image: HostTensor, size: [number, number]): Promise<RawDetections[]> {
  const { det, weights } = build(name, set);
  const outs: RawDetections[] = [];
  for (const engine of ['ort', 'tfjs'] as const) {
    const r = await createDetectorRunner(engine, det, weights, { backend: 'wasm' });
    disposers.push(() => r.dispose());
    outs.push(await r.run(image, size));
  }
  return outs;
}

/** The rows of a table [R, k] in lexicographic order, flattened. */
function sortedRows(t: HostTensor): number[] {
  const k = t.shape[1];
  const rows = Array.from({ length: t.shape[0] }, (_, i) => Array.from(t.data.subarray(i * k, (i + 1) * k)));
  rows.sort((a, b) => a.reduce((d, v, j) => d || v - b[j], 0));
  return rows.flat();
}

describe('mmdetection conventions, both engines', () => {
  it('ort and tfjs give the same proposals, detections and masks', async () => {
    const [o, t] = await runBoth('test_mask-rcnn_convnext-narrow_mmdet', [], input, [75, 101]);
    // The random-weight tiny model fills the per-image cap (roi_head.test.max_per_img of the config).
    const cfg = resolveConfig('test_mask-rcnn_convnext-narrow_mmdet');
    const cap = cfg.type === 'mask_rcnn' ? cfg.roi_head?.test?.max_per_img : undefined;
    expect(cap).toBeDefined();
    expect(o.dets.shape[0]).toBe(cap);
    expect(t.dets.shape).toEqual(o.dets.shape);
    expect(t.proposals.shape).toEqual(o.proposals.shape);
    const err = { proposals: maxDiff(t.proposals.data, o.proposals.data), dets: maxDiff(t.dets.data, o.dets.data), masks: maxDiff(t.masks.data, o.masks.data) };
    console.log(`mmdet conventions, tfjs vs ort: ${o.proposals.shape[0]} proposals, ${o.dets.shape[0]} detections, max abs err`, err);
    expect(err.proposals).toBeLessThanOrEqual(1e-2);
    expect(err.dets).toBeLessThanOrEqual(1e-2);
    expect(err.masks).toBeLessThanOrEqual(1e-4);
  });
});

describe('mmdetection conventions at a realistic size (adaptive RoIAlign sampling on wasm)', () => {
  it('336×448 input, FPN and heads of 256 channels: tfjs (wasm) gives the ort detections', async () => {
    // Random weights (seeded); a smooth deterministic image so proposals span every pyramid level.
    const det = new Detector(resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', [
      'neck.out_channels=256', 'rpn_head.feat_channels=256', 'roi_head.mask_head.conv_out_channels=256', 'roi_head.test.max_per_img=100',
    ]) as DetectorConfig);
    const { weights } = bindWeights(det.scope.registry, new Map(), { allowMissing: true, seed: 11 });
    const [h, w] = [336, 448];
    const data = new Float32Array(3 * h * w);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = 2 * Math.sin(x / (17 + 9 * c)) * Math.cos(y / 23) + ((x * 31 + y * 17 + c * 7) % 13) / 13;
    }
    const image: HostTensor = { shape: [1, 3, h, w], data };
    const outs: RawDetections[] = [];
    for (const engine of ['ort', 'tfjs'] as const) {
      const r = await createDetectorRunner(engine, det, weights, { backend: 'wasm' });
      disposers.push(() => r.dispose());
      outs.push(await r.run(image, [h, w]));
    }
    const [o, t] = outs;
    expect(o.dets.shape[0]).toBe(100);
    expect(t.dets.shape).toEqual(o.dets.shape);
    expect(t.proposals.shape).toEqual(o.proposals.shape);
    // Random-weight RPN scores nearly tie, so the two engines may list equal proposals in another order.
    const err = { proposals: maxDiff(sortedRows(t.proposals), sortedRows(o.proposals)), dets: maxDiff(t.dets.data, o.dets.data), masks: maxDiff(t.masks.data, o.masks.data) };
    console.log(`mmdet conventions 336×448, tfjs vs ort: ${o.proposals.shape[0]} proposals, ${o.dets.shape[0]} detections, max abs err`, err);
    expect(err.proposals).toBeLessThanOrEqual(1e-2);
    expect(err.dets).toBeLessThanOrEqual(1e-2);
    expect(err.masks).toBeLessThanOrEqual(1e-4);
  });
});

describe('class layouts', () => {
  it('background first with background rows (torchvision\'s own layout) gives the same detections', async () => {
    const layout = ['roi_head.bbox_head.background=first', 'roi_head.bbox_head.reg_with_background=true', 'roi_head.mask_head.with_background=true'];
    const [a] = await runBoth('test_mask-rcnn_convnext-narrow_tv', [], input, [75, 101]);
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_tv', layout);
    expect(weights.get('roi_head.bbox_head.fc_reg.weight')!.shape[0]).toBe(24);
    const r = await createDetectorRunner('ort', det, weights);
    disposers.push(() => r.dispose());
    const b = await r.run(input, [75, 101]);
    expect(b.dets.shape).toEqual(a.dets.shape);
    expect(maxDiff(b.dets.data, a.dets.data)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(b.masks.data, a.masks.data)).toBeLessThanOrEqual(1e-6);
  });
});

describe('tfjs engine tensor accounting', () => {
  it('a detector run leaves no tensors behind', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_mmdet');
    const r = await createDetectorRunner('tfjs', det, weights, { backend: 'wasm' });
    disposers.push(() => r.dispose());
    await r.run(input, [75, 101]);
    const before = tf.memory().numTensors;
    await r.run(input, [75, 101]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the single-input ONNX graph (convnext export)', () => {
  it('runs in a fresh onnxruntime session with the engine detections', async () => {
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_mmdet');
    const net = det.network();
    const bytes = buildOnnx(net, weights);
    const session = await ort.InferenceSession.create(bytes, sessionOptions({}));
    disposers.push(() => session.release());
    const res = await session.run({ input: new ort.Tensor('float32', input.data, input.shape) });
    const tfjs = await createDetectorRunner('tfjs', det, weights, { backend: 'wasm' });
    disposers.push(() => tfjs.dispose());
    const ref = await tfjs.run(input, [input.shape[2], input.shape[3]]);
    expect(res.dets.dims.map(Number)).toEqual(ref.dets.shape);
    expect(maxDiff(res.dets.data as Float32Array, ref.dets.data)).toBeLessThanOrEqual(1e-2);
    expect(maxDiff(res.masks.data as Float32Array, ref.masks.data)).toBeLessThanOrEqual(1e-4);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['dets', 'masks', 'proposals']);
  });
});

describe('bad input', () => {
  it('no detection above the threshold: empty outputs on both engines, no crash', async () => {
    const outs = await runBoth('test_mask-rcnn_convnext-narrow_tv', ['roi_head.test.score_thr=1'], input, [75, 101]);
    for (const o of outs) {
      expect(o.dets.shape).toEqual([0, 6]);
      expect(o.masks.shape).toEqual([0, 1, 28, 28]);
      expect(o.proposals.shape[0]).toBeGreaterThan(0);
    }
  });

  it('a 1×1 image (no resize) runs on both engines', async () => {
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_tv', ['input.scale=null']);
    const img: RgbImage = { width: 1, height: 1, data: Uint8Array.from([200, 30, 90]) };
    const counts: number[] = [];
    for (const engine of ['ort', 'tfjs'] as const) {
      const p = await createDetectorPredictor(det.config, weights, engine, { backend: 'wasm' });
      disposers.push(() => p.dispose());
      const r = await p.predict(img);
      expect(r.width).toBe(1);
      expect(r.height).toBe(1);
      counts.push(r.instances.length);
      for (const ins of r.instances) {
        expect(ins.box.every((v) => v >= 0 && v <= 1)).toBe(true);
        expect(ins.mask.width * ins.mask.height).toBeLessThanOrEqual(1);
      }
    }
    // Both engines agree on what a 1×1 image yields.
    expect(counts[1]).toBe(counts[0]);
  });

  it('a large image (3000 × 4000) is resized into the scale; boxes come back in its pixels', async () => {
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_tv', ['input.scale=[640,480]']);
    const data = new Uint8Array(4000 * 3000 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 253;
    const img: RgbImage = { width: 4000, height: 3000, data };
    const p = await createDetectorPredictor(det.config, weights, 'ort');
    disposers.push(() => p.dispose());
    const r = await p.predict(img);
    expect([r.height, r.width]).toEqual([3000, 4000]);
    expect(r.instances.length).toBeGreaterThan(0);
    for (const ins of r.instances) {
      expect(ins.box[2]).toBeLessThanOrEqual(4000 + 1e-2);
      expect(ins.box[3]).toBeLessThanOrEqual(3000 + 1e-2);
      expect(ins.mask.x0 + ins.mask.width).toBeLessThanOrEqual(4000);
    }
  });

  it('an extreme aspect ratio (2 × 1500) is resized into the scale and runs', async () => {
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_tv');
    const img: RgbImage = { width: 1500, height: 2, data: new Uint8Array(1500 * 2 * 3).fill(128) };
    const p = await createDetectorPredictor(det.config, weights, 'ort');
    disposers.push(() => p.dispose());
    const r = await p.predict(img);
    expect([r.height, r.width]).toEqual([2, 1500]);
    for (const ins of r.instances) {
      expect(ins.box[2]).toBeLessThanOrEqual(1500 + 1e-3);
      expect(ins.box[3]).toBeLessThanOrEqual(2 + 1e-3);
      expect(ins.mask.y0 + ins.mask.height).toBeLessThanOrEqual(2);
    }
  });
});

describe('preprocessing sizes', () => {
  it('mmcv rescale_size and torchvision floor', () => {
    // 480×640 into (1333, 800): scale = min(1333/640, 800/480) = 5/3; mmcv: 640·5/3 + 0.5 = 1067.2 → 1067.
    expect(resizedSize(480, 640, [1333, 800], 'round')).toEqual([800, 1067]);
    // torchvision: 800/480 in float32 is 1.66666663 < 5/3, so 480·s = 799.99998 → 799.
    expect(resizedSize(480, 640, [1333, 800], 'floor')).toEqual([799, 1066]);
    // Long side bound: 300×1000 → scale = min(1333/1000, 800/300) = 1.333 → 400×1333.
    expect(resizedSize(300, 1000, [1333, 800], 'round')).toEqual([400, 1333]);
    expect(resizedSize(5, 7, null, 'round')).toEqual([5, 7]);
  });
});

describe('COCO results', () => {
  it('region RLE equals the full-mask RLE; boxes become xywh', async () => {
    const { det, weights } = build('test_mask-rcnn_convnext-narrow_tv');
    const p = await createDetectorPredictor(det.config, weights, 'ort');
    disposers.push(() => p.dispose());
    const img: RgbImage = { width: 90, height: 70, data: Uint8Array.from({ length: 90 * 70 * 3 }, (_, i) => (i * 37) % 251) };
    const r = await p.predict(img);
    expect(r.instances.length).toBeGreaterThan(0);
    for (const ins of r.instances) {
      const a = regionToRle(ins.mask, r.height, r.width);
      const b = encodeMask(regionToFull(ins.mask, r.height, r.width), r.height, r.width);
      expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
    }
    const res = toCocoResults(r, 42, { cocoClasses: false });
    expect(res[0].image_id).toBe(42);
    expect(res[0].category_id).toBe(r.instances[0].label + 1);
    const [x1, y1, x2, y2] = r.instances[0].box;
    expect(res[0].bbox).toEqual([x1, y1, x2 - x1, y2 - y1]);
    expect(res[0].segmentation).toMatchObject({ size: [70, 90] });
  });
});
