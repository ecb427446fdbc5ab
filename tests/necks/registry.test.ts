/**
 * The neck registry: a neck defined outside src/ (./toy-neck.ts) is registered with one line, a
 * detector config names it by `type` and parses (typos in its options fail with their path), the
 * detector builds with it and runs on both engines with the same detections, and its outputs have
 * the channels and strides it declares. Also: every named detector config's neck outputs match
 * the neck's declared spec (shape engine, checked against onnxruntime in registry-walk.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { configNames, resolveConfig } from '../../configs/index.js';
import { type DetectorConfig, isDetectorConfig } from '../../src/config/detector.js';
import { initBackend } from '../../src/core/tfjs/backend.js';
import { TfjsOps } from '../../src/core/tfjs/ops.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import { ShapeOps, type ShapeSym } from '../../src/core/shape/ops.js';
import { initWeights } from '../../src/core/weights.js';
import type { HostTensor } from '../../src/core/host-tensor.js';
import { NECKS } from '../../src/necks/index.js';
import { Detector } from '../../src/tasks/detection/detector.js';
import { type DetectorRunner, type RawDetections } from '../../src/tasks/detection/detector-runner.js';
import { toyNeckEntry } from './toy-neck.js';
import { maxDiff } from '../heads/det-harness.js';
import { createDetectorRunner } from '../../src/tasks/detection/detector-engine.js';

const TOY = ['neck={"type":"toy_proj","out_channels":24,"extra":1}'];
const runners: DetectorRunner[] = [];
beforeAll(() => {
  if (!NECKS.types().includes('toy_proj')) NECKS.register(toyNeckEntry);
});
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

describe('a neck registered from outside the library', () => {
  it('parses by type, with option errors at their path', () => {
    const cfg = resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', TOY);
    expect(isDetectorConfig(cfg) && cfg.neck).toEqual({ type: 'toy_proj', out_channels: 24, extra: 1 });
    expect(() => resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', ['neck={"type":"toy_proj","out_chanels":24}'])).toThrow(/neck: unknown key\(s\) 'out_chanels'/);
    expect(() => resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', ['neck={"type":"toy_proj"}'])).toThrow(/neck\.out_channels:/);
    expect(() => resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', ['neck={"type":"toy_projj","out_channels":24}'])).toThrow(/neck\.type: unknown type "toy_projj": expected one of 'fpn', 'toy_proj'/);
  });

  it('builds with its own parameter names and runs on both engines with the same detections', async () => {
    const det = new Detector(resolveConfig('test_mask-rcnn_convnext-narrow_mmdet', TOY) as DetectorConfig);
    expect(det.scope.registry.get('neck.proj.3.weight')?.shape).toEqual([24, 32, 1, 1]);
    expect(det.neck.outSpecs.map((s) => [s.name, s.channels, s.stride])).toEqual([['p2', 24, 4], ['p3', 24, 8], ['p4', 24, 16], ['p5', 24, 32], ['p6', 24, 64]]);
    const weights = initWeights(det.scope.registry, 4);
    const [h, w] = [96, 128];
    const data = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.013) + Math.cos((i % w) * 0.07));
    const image: HostTensor = { shape: [1, 3, h, w], data };
    const outs: RawDetections[] = [];
    for (const engine of ['ort', 'tfjs'] as const) {
      const r = await createDetectorRunner(engine, det, weights, { backend: 'wasm' });
      runners.push(r);
      outs.push(await r.run(image, [h, w]));
    }
    expect(outs[0].proposals.shape[0]).toBeGreaterThan(0);
    expect(outs[0].dets.shape[0]).toBeGreaterThan(0);
    expect(outs[1].dets.shape).toEqual(outs[0].dets.shape);
    expect(maxDiff(outs[1].dets.data, outs[0].dets.data)).toBeLessThanOrEqual(1e-2);
    expect(maxDiff(outs[1].masks.data, outs[0].masks.data)).toBeLessThanOrEqual(1e-4);

    // Its outputs on tfjs have the declared channels and strides.
    await initBackend('wasm');
    const params = new TfjsParams(weights);
    const shapes = tf.tidy(() => {
      const ops = new TfjsOps(params, false);
      return det.neckForward(ops, det.backboneForward(ops, fromHost(image))).map((t) => [...t.shape]);
    });
    params.dispose();
    expect(shapes).toEqual(det.neck.outSpecs.map((s) => [1, Math.ceil(h / s.stride), Math.ceil(w / s.stride), s.channels]));
  });
});

describe('every named detector config', () => {
  const names = configNames().filter((n) => isDetectorConfig(resolveConfig(n)));
  it.each(names)('%s: neck outputs match its declared spec', (name) => {
    const det = new Detector(resolveConfig(name) as DetectorConfig);
    const ops = new ShapeOps();
    const pyramid = det.neckForward(ops, det.backboneForward(ops, { shape: [1, 3, 224, 320] } satisfies ShapeSym));
    expect(pyramid.map((p) => p.shape)).toEqual(det.neck.outSpecs.map((s) => [1, s.channels, Math.ceil(224 / s.stride), Math.ceil(320 / s.stride)]));
  });
});

describe('key rules of registered necks', () => {
  it("the FPN's own rules map torchvision's FeaturePyramidNetwork keys (both key generations)", () => {
    expect(NECKS.keyRule('torchvision-maskrcnn', 'inner_blocks.2.0.weight')).toBe('lateral_convs.2.conv.weight');
    expect(NECKS.keyRule('torchvision-maskrcnn', 'layer_blocks.3.bias')).toBe('fpn_convs.3.conv.bias');
    expect(NECKS.keyRule('torchvision-maskrcnn', 'extra_blocks.p6.weight')).toBeNull();
    expect(NECKS.keyRule('timm', 'inner_blocks.2.0.weight')).toBeNull();
  });
});
