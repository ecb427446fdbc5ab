/**
 * Detectors at batch > 1 (`Detector.batchNetwork`: backbone and neck on the batch, the heads once
 * per image through `DetOps.perImage`, an ONNX Loop on the ort engine and a host loop on tfjs):
 * each image of a batch gets what the one-image graph gives it at the batch's padded size (the
 * images padded into one batch as mmdetection collates them), on both engines, for Mask R-CNN
 * (the demo model on its samples, 320²) and Cascade Mask R-CNN (the reference fixtures' two
 * odd-sized images, 75×101 and 150×213, in one 160×224 batch). Batched convolutions round
 * differently from single-image ones, so rows agree within float tolerance (stated below), and
 * the detections (count, labels, order) agree exactly. Padding rows are zeros; the counts say
 * which rows are valid; no tensor is left behind on tfjs. With the paste in the graph
 * (`pasteMasks`), boxes and masks at the original size equal the predictor's own decoding of the
 * plain batched graph (the predictor's paste is tested against mmdetection's in
 * detector-paste.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../configs/index.js';
import type { DetectorConfig } from '../../../src/config/detector.js';
import { createRunner, ENGINES, type EngineName } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { bindWeights, type WeightMap } from '../../../src/core/weights.js';
import { readRgb } from '../../../src/io/image.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { collateInputs, type DetInput, detectionInput } from '../../../src/tasks/detection/detector-input.js';
import { createDetectorRunner } from '../../../src/tasks/detection/detector-engine.js';
import { batchItem, type DetectorRunner, type RawDetections, unbatchDetections } from '../../../src/tasks/detection/detector-runner.js';
import { Detector } from '../../../src/tasks/detection/detector.js';
import { DetectorPredictor } from '../../../src/tasks/detection/detector-predict.js';
import { regionToFull } from '../../../src/core/det/paste.js';
import { FIXTURES, loadIo } from '../../helpers.js';
import { cols, maxDiff } from '../../heads/det-harness.js';

const ASSETS = fileURLToPath(new URL('../../../assets/demo/', import.meta.url));
/** Largest differences allowed between batched and one-image rows: box pixels, scores and mask probabilities. */
const TOL = { box: 1e-3, score: 1e-5, mask: 1e-4 };

const runners: DetectorRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

interface Case {
  det: Detector;
  weights: WeightMap;
  batch: HostTensor;
  sizes: Array<[number, number]>;
}

async function demoCase(): Promise<Case> {
  const det = new Detector(resolveConfig('demo_mask-rcnn_convnext-synth') as DetectorConfig);
  const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'))).tensors);
  const inputs: DetInput[] = [];
  for (const i of [0, 1, 3]) {
    const img = await readRgb(join(ASSETS, 'shapes', `shapes_${i}.png`));
    inputs.push(detectionInput(img, { mean: det.config.input.mean, std: det.config.input.std, ...det.conventions.input }));
  }
  return { det, weights, batch: collateInputs(inputs), sizes: inputs.map((i) => i.size) };
}

async function cascadeCase(): Promise<Case> {
  const dir = join(FIXTURES, 'det');
  const det = new Detector(resolveConfig('test_cascade-mask-rcnn_convnext-narrow') as DetectorConfig);
  const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(dir, 'cascade.pth'))).tensors);
  const ios = [await loadIo(join(dir, 'cascade_150x213.io.safetensors')), await loadIo(join(dir, 'cascade_75x101.io.safetensors'))];
  const inputs = ios.map((io, k): DetInput => ({ tensor: io.input, size: k === 0 ? [150, 213] : [75, 101], original: [0, 0] }));
  return { det, weights, batch: collateInputs(inputs), sizes: inputs.map((i) => i.size) };
}

function expectSameRows(got: RawDetections, want: RawDetections, what: string): void {
  expect(got.dets.shape, `${what} dets`).toEqual(want.dets.shape);
  expect(got.masks.shape, `${what} masks`).toEqual(want.masks.shape);
  expect(got.proposals.shape, `${what} proposals`).toEqual(want.proposals.shape);
  expect(Array.from(cols(got.dets, 5, 6)), `${what} labels`).toEqual(Array.from(cols(want.dets, 5, 6)));
  expect(maxDiff(cols(got.dets, 0, 4), cols(want.dets, 0, 4)), `${what} boxes`).toBeLessThanOrEqual(TOL.box);
  expect(maxDiff(cols(got.dets, 4, 5), cols(want.dets, 4, 5)), `${what} scores`).toBeLessThanOrEqual(TOL.score);
  expect(maxDiff(got.masks.data, want.masks.data), `${what} masks`).toBeLessThanOrEqual(TOL.mask);
  expect(maxDiff(cols(got.proposals, 0, 4), cols(want.proposals, 0, 4)), `${what} proposals`).toBeLessThanOrEqual(TOL.box);
}

describe.each(ENGINES)('batched detectors on %s: each image as the one-image graph gives it', (engine: EngineName) => {
  it.each([['Mask R-CNN (demo, 3 × 320²)', demoCase], ['Cascade Mask R-CNN (75×101 and 150×213 in one batch)', cascadeCase]] as const)('%s', async (_name, make) => {
    const { det, weights, batch, sizes } = await make();
    // Two runners: a runner that has seen a batch runs everything through the batched network.
    const [one, runner] = [await createDetectorRunner(engine, det, weights, { backend: 'wasm' }), await createDetectorRunner(engine, det, weights, { backend: 'wasm' })];
    runners.push(one, runner);
    const batched = await runner.runBatch(batch, sizes);
    expect(batched).toHaveLength(sizes.length);
    for (const [n, size] of sizes.entries()) {
      const alone = await one.run(batchItem(batch, n), size);
      expect(alone.dets.shape[0], `image ${n} has detections`).toBeGreaterThan(0);
      expectSameRows(batched[n], alone, `image ${n}`);
      // ... and the switched runner's lone run (the batched network at batch 1) agrees too.
      expectSameRows(await runner.run(batchItem(batch, n), size), alone, `image ${n} alone after a batch`);
    }
    if (engine === 'tfjs') {
      const before = tf.memory().numTensors;
      await runner.runBatch(batch, sizes);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('a runner switching to the batched network', () => {
  it('answers lone runs in flight during the switch, and a dispose during the build ends the batch with an error, not a crash', async () => {
    const { det, weights, batch, sizes } = await demoCase();
    const r = await createDetectorRunner('ort', det, weights);
    const [a, b, c] = await Promise.all([r.run(batchItem(batch, 0), sizes[0]), r.runBatch(batch, sizes), r.run(batchItem(batch, 1), sizes[1])]);
    expectSameRows(b[0], a, 'image 0');
    expectSameRows(b[1], c, 'image 1');
    await r.dispose();
    await expect(r.run(batchItem(batch, 0), sizes[0])).rejects.toThrow(/disposed/);
    const r2 = await createDetectorRunner('ort', det, weights);
    const building = r2.runBatch(batch, sizes);
    await r2.dispose();
    await expect(building).rejects.toThrow(/disposed/);
  });
});

describe('the batched ONNX graph', () => {
  it('pads each image to the heads\' max_per_img with zero rows, counts the valid ones, and runs without image_size (each image the whole input)', async () => {
    const { det, weights, batch, sizes } = await demoCase();
    const session = await ort.InferenceSession.create(buildOnnx(det.batchNetwork(false), weights));
    const [n, , h, w] = batch.shape;
    const out = await session.run({ input: new ort.Tensor('float32', batch.data, batch.shape) });
    const host = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: v.dims.map(Number), data: v.data as Float32Array }]));
    expect(host.dets.shape).toEqual([n, det.roiHead.o.test.maxPerImg, 6]);
    expect(host.masks.shape).toEqual([n, det.roiHead.o.test.maxPerImg, 1, 28, 28]);
    expect(host.proposals.shape).toEqual([n, det.rpnHead.proposalOptions.maxPerImg, 5]);
    const per = unbatchDetections(host);
    const k = det.roiHead.o.test.maxPerImg;
    for (let i = 0; i < n; i++) {
      const valid = host.num_dets.data[i];
      expect(host.dets.data.subarray((i * k + valid) * 6, (i + 1) * k * 6).every((v) => v === 0), `image ${i} padding`).toBe(true);
      // The demo samples fill the whole 320² input: without image_size each is its whole input, as with it.
      expect(sizes[i]).toEqual([h, w]);
      const single = await ort.InferenceSession.create(buildOnnx(det.network(), weights));
      const one = await single.run({ input: new ort.Tensor('float32', batchItem(batch, i).data, [1, 3, h, w]) });
      await single.release();
      expectSameRows(per[i], {
        dets: { shape: one.dets.dims.map(Number), data: one.dets.data as Float32Array },
        masks: { shape: one.masks.dims.map(Number), data: one.masks.data as Float32Array },
        proposals: { shape: one.proposals.dims.map(Number), data: one.proposals.data as Float32Array },
      }, `image ${i}`);
    }
    await session.release();
  });
});

describe.each(ENGINES)('the whole post-processing in the graph (batchNetwork with pasteMasks) on %s', (engine: EngineName) => {
  it('boxes in original pixels and masks pasted at the original size, as the predictor decodes the plain batched graph', async () => {
    const det = new Detector(resolveConfig('demo_mask-rcnn_convnext-synth') as DetectorConfig);
    const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'))).tensors);
    const full = await readRgb(join(ASSETS, 'shapes', 'shapes_1.png'));
    // A 200×150 crop: another original size, resized and padded to another size than the 320² sample.
    const crop = { width: 200, height: 150, data: new Uint8Array(200 * 150 * 3) };
    for (let y = 0; y < 150; y++) crop.data.set(full.data.subarray(y * full.width * 3, y * full.width * 3 + 600), y * 600);
    const imgs = [await readRgb(join(ASSETS, 'shapes', 'shapes_0.png')), crop];
    const predictor = DetectorPredictor.fromRunner(det, { batches: true, run: () => Promise.reject(new Error('unused')), runBatch: () => Promise.reject(new Error('unused')), dispose: () => undefined });
    const inputs = imgs.map((img) => predictor.prepare(img));
    const batch = collateInputs(inputs);
    const tables = {
      image_size: { shape: [2, 2], data: Float32Array.from(inputs.flatMap((i) => i.size)) },
      orig_size: { shape: [2, 2], data: Float32Array.from(inputs.flatMap((i) => i.original)) },
    };
    const plain = await createRunner(engine, det.batchNetwork(true), weights, { backend: 'wasm' });
    const pasted = await createRunner(engine, det.batchNetwork(true, { pasteMasks: true }), weights, { backend: 'wasm' });
    const want = unbatchDetections(await plain.run(batch, { image_size: tables.image_size }));
    const got = await pasted.run(batch, tables);
    const [k, hMax, wMax] = [det.roiHead.o.test.maxPerImg, 320, 320];
    expect(got.masks.shape).toEqual([2, k, 1, hMax, wMax]);
    let flipped = 0;
    for (const [n, input] of inputs.entries()) {
      const r = predictor.decode(want[n], input);
      const count = got.num_dets.data[n];
      expect(count).toBe(r.instances.length);
      expect(count, `image ${n} has detections`).toBeGreaterThan(0);
      const [oh, ow] = input.original;
      for (const [i, ins] of r.instances.entries()) {
        const row = got.dets.data.subarray((n * k + i) * 6, (n * k + i + 1) * 6);
        expect(maxDiff(row.subarray(0, 4), ins.box), `image ${n} box ${i}`).toBeLessThanOrEqual(1e-3);
        expect(row[4]).toBe(ins.score);
        const ref = regionToFull(ins.mask, oh, ow);
        const plane = got.masks.data.subarray((n * k + i) * hMax * wMax, (n * k + i + 1) * hMax * wMax);
        for (let y = 0; y < hMax; y++) {
          for (let x = 0; x < wMax; x++) {
            const v = plane[y * wMax + x];
            if (y >= oh || x >= ow) expect(v, 'outside the original').toBe(0);
            else if (v !== ref[y * ow + x]) flipped++;
          }
        }
      }
    }
    // Boxes round differently between the graph and the host by ≤ 1e-3 px: a pixel on a mask's edge may flip.
    console.log(`in-graph paste on ${engine}: ${flipped} pixel(s) differ from the host paste`);
    expect(flipped).toBeLessThanOrEqual(20);
    await plain.dispose();
    await pasted.dispose();
  });
});
