/**
 * Cascade Mask R-CNN against a reference written to mmdetection 2.x semantics
 * (tools/reference/mmdet_cascade.py; fixtures from tools/fixtures/gen_cascade.py: narrow ConvNeXt,
 * FPN 16, three 4conv1f box heads with BatchNorm, random weights with non-trivial BN statistics,
 * two odd-sized images padded to /32) on both engines. The weights are the reference's state dict
 * under mmdetection's names, saved as mmcv does (`state_dict` + `meta`), loaded through src/io.
 * Tolerances: proposals and boxes within 1e-2 px, scores within 1e-4, labels equal, 28×28 mask
 * probabilities within 1e-4, masks pasted (mmdetection's grid_sample paste) with IoU ≥ 0.99 over
 * the pixels whose decision is stable within that tolerance (random weights leave many mask
 * probabilities near 0.5: a pixel that the reference's probabilities ± 1e-4 paste differently is
 * not counted, and the test prints how many there were).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { sessionOptions } from '../../../src/core/ort/runner.js';
import { ENGINES } from '../../../src/core/engine.js';
import { bindWeights } from '../../../src/core/weights.js';
import type { DetectorConfig } from '../../../src/config/detector.js';
import { resolveConfig } from '../../../configs/index.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { decompressRle, rleArea } from '../../../src/io/coco/rle.js';
import type { CocoResult } from '../../../src/io/coco/types.js';
import { Detector } from '../../../src/tasks/detection/detector.js';
import { type DetectorRunner } from '../../../src/tasks/detection/detector-runner.js';
import { pasteMask, regionToFull } from '../../../src/core/det/paste.js';
import { FIXTURES, loadIo } from '../../helpers.js';
import { cols, maxDiff } from '../../heads/det-harness.js';
import { createDetectorRunner } from '../../../src/tasks/detection/detector-engine.js';

const DIR = join(FIXTURES, 'det');
const CASES = ['75x101', '150x213'];
const runners: DetectorRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

/** Full-image mask of a 28×28 probability map pasted into its box (mmdetection's paste, ≥ 0.5). */
function pasted(probs: Float32Array, box: number[], h: number, w: number): Uint8Array {
  return regionToFull(pasteMask('grid_sample', probs, 28, box, h, w, 0.5), h, w);
}

describe('Cascade Mask R-CNN checkpoint layout', () => {
  it('the mmdetection-layout file loads with zero missing and zero unexpected keys', async () => {
    const det = new Detector(resolveConfig('test_cascade-mask-rcnn_convnext-narrow') as DetectorConfig);
    const loaded = await loadWeights(join(DIR, 'cascade.pth'));
    expect(loaded.source).toBe('mmdet');
    const { report } = bindWeights(det.scope.registry, loaded.tensors);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    // Every stage's heads, BatchNorm buffers included.
    for (const s of [0, 1, 2]) {
      for (const k of ['shared_convs.3.conv.weight', 'shared_convs.3.bn.running_var', 'shared_fcs.0.weight', 'fc_cls.bias', 'fc_reg.weight']) {
        expect(det.scope.registry.get(`roi_head.bbox_head.${s}.${k}`), `bbox_head.${s}.${k}`).toBeDefined();
      }
      expect(det.scope.registry.get(`roi_head.mask_head.${s}.conv_logits.weight`)).toBeDefined();
    }
    expect(det.scope.registry.get('roi_head.bbox_head.0.shared_convs.0.conv.bias')).toBeUndefined();
  });
});

describe.each(ENGINES)('Cascade Mask R-CNN vs the mmdetection 2.x reference on %s', (engine) => {
  it.each(CASES)('%s', async (size) => {
    const io = await loadIo(join(DIR, `cascade_${size}.io.safetensors`));
    const det = new Detector(resolveConfig('test_cascade-mask-rcnn_convnext-narrow') as DetectorConfig);
    const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(DIR, 'cascade.pth'))).tensors);
    const runner = await createDetectorRunner(engine, det, weights, { backend: 'wasm' });
    runners.push(runner);
    const [h, w] = size.split('x').map(Number);
    const out = await runner.run(io.input, [h, w]);
    const e = io.expected;

    expect(out.proposals.shape[0]).toBe(e.proposals.shape[0]);
    const propErr = maxDiff(cols(out.proposals, 0, 4), e.proposals.data);
    const propScoreErr = maxDiff(cols(out.proposals, 4, 5), e.proposal_scores.data);
    const d = e.scores.shape[0];
    expect(d).toBeGreaterThan(0);
    expect(out.dets.shape[0]).toBe(d);
    expect(Array.from(cols(out.dets, 5, 6))).toEqual(Array.from(e.labels.data));
    const boxErr = maxDiff(cols(out.dets, 0, 4), e.boxes.data);
    const scoreErr = maxDiff(cols(out.dets, 4, 5), e.scores.data);
    const maskErr = maxDiff(out.masks.data, e.mask_probs.data);
    let minIou = 1;
    let unstable = 0;
    for (let i = 0; i < d; i++) {
      const probs = e.mask_probs.data.subarray(784 * i, 784 * (i + 1));
      const refBox = Array.from(e.boxes.data.subarray(4 * i, 4 * i + 4));
      const ours = pasted(out.masks.data.subarray(784 * i, 784 * (i + 1)), Array.from(out.dets.data.subarray(6 * i, 6 * i + 4)), h, w);
      const ref = pasted(probs, refBox, h, w);
      const lo = pasted(probs.map((v) => v - 1e-4), refBox, h, w);
      const hi = pasted(probs.map((v) => v + 1e-4), refBox, h, w);
      let inter = 0;
      let union = 0;
      for (let p = 0; p < h * w; p++) {
        if (lo[p] !== hi[p]) {
          unstable++;
          continue;
        }
        inter += ours[p] & ref[p];
        union += ours[p] | ref[p];
      }
      minIou = Math.min(minIou, union === 0 ? 1 : inter / union);
    }
    console.log(`cascade ${engine} ${size}: ${out.proposals.shape[0]} proposals (max err ${propErr.toExponential(2)} px, score ${propScoreErr.toExponential(2)}), `
      + `${d} detections (box ${boxErr.toExponential(2)} px, score ${scoreErr.toExponential(2)}, 28x28 mask ${maskErr.toExponential(2)}, min mask IoU ${minIou.toFixed(4)} without ${unstable} unstable pixels)`);
    expect(propErr).toBeLessThanOrEqual(1e-2);
    expect(propScoreErr).toBeLessThanOrEqual(1e-4);
    expect(boxErr).toBeLessThanOrEqual(1e-2);
    expect(scoreErr).toBeLessThanOrEqual(1e-4);
    expect(maskErr).toBeLessThanOrEqual(1e-4);
    expect(minIou).toBeGreaterThanOrEqual(0.99);
  });
});

describe('Cascade Mask R-CNN deployment', () => {
  async function setup() {
    const io = await loadIo(join(DIR, 'cascade_75x101.io.safetensors'));
    const det = new Detector(resolveConfig('test_cascade-mask-rcnn_convnext-narrow') as DetectorConfig);
    const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(DIR, 'cascade.pth'))).tensors);
    return { io, det, weights };
  }

  it('the single-input ONNX graph (convnext export) runs in a fresh session with the reference detections', async () => {
    const { io, det, weights } = await setup();
    // The exported graph treats the whole (padded) input as the image.
    const [h, w] = [io.input.shape[2], io.input.shape[3]];
    const session = await ort.InferenceSession.create(buildOnnx(det.network(), weights), sessionOptions({}));
    const res = await session.run({ input: new ort.Tensor('float32', io.input.data, io.input.shape) });
    const tfjs = await createDetectorRunner('tfjs', det, weights, { backend: 'wasm' });
    runners.push(tfjs);
    const ref = await tfjs.run(io.input, [h, w]);
    expect(res.dets.dims.map(Number)).toEqual(ref.dets.shape);
    expect(ref.dets.shape[0]).toBeGreaterThan(0);
    expect(maxDiff(res.dets.data as Float32Array, ref.dets.data)).toBeLessThanOrEqual(1e-2);
    expect(maxDiff(res.masks.data as Float32Array, ref.masks.data)).toBeLessThanOrEqual(1e-4);
    expect(session.outputNames).toEqual(['dets', 'masks', 'proposals']);
    await session.release();
  });

  it('a tfjs run leaves no tensors behind', async () => {
    const { io, det, weights } = await setup();
    const r = await createDetectorRunner('tfjs', det, weights, { backend: 'wasm' });
    runners.push(r);
    await r.run(io.input, [75, 101]);
    const before = tf.memory().numTensors;
    await r.run(io.input, [75, 101]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('convnext detect and convnext eval run a cascade config: a ground truth made of its detections evaluates to AP 1', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'convnext-cascade-'));
    const bin = fileURLToPath(new URL('../../../bin/convnext.js', import.meta.url));
    const image = fileURLToPath(new URL('../../../assets/demo/chelsea.jpg', import.meta.url));
    expect(existsSync(image), 'bundled sample photo').toBe(true);
    const images = join(tmp, 'images');
    mkdirSync(images);
    copyFileSync(image, join(images, 'chelsea.jpg'));
    const cli = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
    });
    const weights = join(DIR, 'cascade.pth');
    const out = join(tmp, 'out');
    const r = await cli(['detect', '-c', 'test_cascade-mask-rcnn_convnext-narrow', '-w', weights, '--image', images, '-o', out, '--score-thr', '0.2']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CocoResult[];
    expect(results.length).toBeGreaterThan(0);
    for (const d of results) expect(d.score).toBeGreaterThanOrEqual(0.2);
    // Ground truth: every detection scored above all those whose mask is empty (a box thinner
    // than a pixel pastes no pixels) becomes an object of its category; an empty-mask detection
    // cannot be matched in segm, so it must rank after every ground-truth object.
    const imgs = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as Array<{ id: number; file_name: string; width: number; height: number }>;
    const rle = (d: CocoResult) => decompressRle(d.segmentation as { size: [number, number]; counts: string });
    const cut = Math.max(0, ...results.filter((d) => rleArea(rle(d)) === 0).map((d) => d.score));
    const kept = results.filter((d) => d.score > cut);
    expect(kept.length).toBeGreaterThan(0);
    // The categories are the model's classes (ids 1…C, results name them by id).
    const names = new Detector(resolveConfig('test_cascade-mask-rcnn_convnext-narrow') as DetectorConfig).classNames;
    const ann = join(tmp, 'ann.json');
    writeFileSync(ann, JSON.stringify({
      images: imgs.map((im) => ({ ...im, file_name: im.file_name.split('/').pop() })),
      categories: names.map((name, i) => ({ id: i + 1, name })),
      annotations: kept.map((d, i) => ({ id: i + 1, image_id: d.image_id, category_id: d.category_id, bbox: d.bbox, iscrowd: 0, area: rleArea(rle(d)), segmentation: d.segmentation })),
    }));
    const report = join(tmp, 'report.json');
    const e = await cli(['eval', '-c', 'test_cascade-mask-rcnn_convnext-narrow', '-w', weights, '--data', ann, '--images', images, '--out', report]);
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as Record<string, { stats: Record<string, number> }>;
    // The model finds the same instances again (plus lower-scored ones, ranked after them).
    expect(rep.bbox.stats.AP).toBeCloseTo(1, 6);
    expect(rep.segm.stats.AP).toBeCloseTo(1, 6);
    rmSync(tmp, { recursive: true, force: true });
  });
});
