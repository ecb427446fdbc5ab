/**
 * RoIAlign on the TensorFlow.js engine at a realistic detector size: the FPN levels of a
 * ConvNeXt-T Mask R-CNN on an 800×1216 input (p2…p5, 256 channels), 1000 proposals of sizes
 * 16…1000 px placed by mmdetection's level rule, pooled to 7×7 (box branch) and 100 of them to
 * 14×14 (mask branch), adaptive sampling (mmdetection) or sampling ratio 2 (torchvision); then the
 * gradient of the box branch with respect to the features (training). Reports median time per
 * call, live tensors after the runs, and the process's peak RSS.
 *
 * `--detector` instead times the whole mmdetection-convention ConvNeXt-T Mask R-CNN
 * (mask-rcnn_convnext-t_fpn_3x_coco, random weights) on the tfjs engine at that input size.
 *
 *   npx tsx tools/bench_roi_align.ts [--backend wasm|cpu] [--runs 5] [--size 800x1216] [--rois 1000] [--sampling 0|2] [--detector]
 */
import * as tf from '@tensorflow/tfjs-core';
import { median, peakRssMb } from '../src/core/bench.js';
import { initBackend } from '../src/core/tfjs/backend.js';
import { ensureGradients } from '../src/core/tfjs/grad/gradients.js';
import { TfjsDetOps } from '../src/core/tfjs/det-ops.js';
import { TfjsParams } from '../src/core/tfjs/params.js';
import { initWeights } from '../src/core/weights.js';
import type { DetectorConfig } from '../src/config/detector.js';
import { resolveConfig } from '../configs/index.js';
import { Detector } from '../src/tasks/detection/detector.js';
import { createDetectorRunner } from '../src/tasks/detection/detector-engine.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const BACKEND = opt('backend', 'wasm') as 'wasm' | 'cpu';
const RUNS = Number(opt('runs', '5'));
const [H, W] = opt('size', '800x1216').split('x').map(Number);
const NUM_ROIS = Number(opt('rois', '1000'));
const SAMPLING = Number(opt('sampling', '0'));
const C = 256;
const STRIDES = [4, 8, 16, 32];

/** Deterministic proposals: log-uniform sides 16…1000 px, aspect 1/3…3, inside the image. */
function proposals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const side = Math.exp(Math.log(16) + rnd() * (Math.log(1000) - Math.log(16)));
    const aspect = Math.exp((rnd() - 0.5) * 2 * Math.log(3));
    const w = Math.min(W, side * Math.sqrt(aspect));
    const h = Math.min(H, side / Math.sqrt(aspect));
    const x1 = rnd() * (W - w);
    const y1 = rnd() * (H - h);
    out.set([x1, y1, x1 + w, y1 + h], 4 * i);
  }
  return out;
}

/** mmdetection's level rule: floor(log2(√(wh) / 56 + 1e-6)) clamped to 0…3. */
function levelsOf(b: Float32Array): Float32Array {
  const n = b.length / 4;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt((b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]));
    out[i] = Math.min(3, Math.max(0, Math.floor(Math.log2(s / 56 + 1e-6))));
  }
  return out;
}

/** The whole detector on the tfjs engine: median time per image and peak RSS. */
async function detector(): Promise<void> {
  const det = new Detector(resolveConfig('mask-rcnn_convnext-t_fpn_3x_coco') as DetectorConfig);
  const runner = await createDetectorRunner('tfjs', det, initWeights(det.scope.registry, 0), { backend: BACKEND });
  const data = Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.001) + Math.cos((i % W) * 0.03));
  const times: number[] = [];
  let counts = '';
  for (let r = 0; r < RUNS + 1; r++) {
    const t0 = performance.now();
    const out = await runner.run({ shape: [1, 3, H, W], data }, [H, W]);
    if (r > 0) times.push(performance.now() - t0);
    counts = `${out.proposals.shape[0]} proposals, ${out.dets.shape[0]} detections`;
  }
  console.log(`Mask R-CNN ConvNeXt-T (mmdet conventions) on tfjs ${tf.getBackend()}, ${H}×${W}: median ${median(times).toFixed(0)} ms over ${RUNS} runs (${counts}), peak RSS ${peakRssMb().toFixed(0)} MB`);
  await runner.dispose();
}

async function main(): Promise<void> {
  if (args.includes('--detector')) return detector();
  await initBackend(BACKEND);
  await ensureGradients();
  const ops = new TfjsDetOps(new TfjsParams(new Map()), true);
  const feats = STRIDES.map((s, i) => tf.randomNormal([1, Math.ceil(H / s), Math.ceil(W / s), C], 0, 1, 'float32', i));
  const boxes = proposals(NUM_ROIS, 1);
  const masks = boxes.slice(0, 400);
  const rois = tf.tensor2d(boxes, [NUM_ROIS, 4]);
  const levels = tf.tensor1d(levelsOf(boxes));
  const maskRois = tf.tensor2d(masks, [100, 4]);
  const maskLevels = tf.tensor1d(levelsOf(masks));
  const scales = STRIDES.map((s) => 1 / s);
  const boxSpec = { output: 7, scales, samplingRatio: SAMPLING, aligned: SAMPLING === 0 };
  const maskSpec = { ...boxSpec, output: 14 };
  const cases: Array<[string, () => void]> = [
    ['box 7×7 forward', () => tf.tidy(() => void ops.roiAlign(feats, rois, levels, boxSpec).dataSync())],
    ['mask 14×14 forward', () => tf.tidy(() => void ops.roiAlign(feats, maskRois, maskLevels, maskSpec).dataSync())],
    ['box 7×7 forward + backward', () => tf.tidy(() => {
      const g = tf.grads((...f: tf.Tensor[]) => tf.sum(ops.roiAlign(f, rois, levels, boxSpec)))(feats);
      g.forEach((x) => x.dataSync());
    })],
  ];
  const before = tf.memory().numTensors;
  console.log(`backend ${tf.getBackend()}, input ${H}×${W}, ${NUM_ROIS} RoIs, sampling ratio ${SAMPLING}, ${RUNS} runs`);
  for (const [name, fn] of cases) {
    const times: number[] = [];
    try {
      for (let r = 0; r < RUNS + 1; r++) {
        const t0 = performance.now();
        fn();
        if (r > 0) times.push(performance.now() - t0);
      }
      console.log(`${name}: median ${median(times).toFixed(1)} ms, peak RSS so far ${peakRssMb().toFixed(0)} MB`);
    } catch (e) {
      console.log(`${name}: FAILED (${(e as Error).message}), peak RSS so far ${peakRssMb().toFixed(0)} MB`);
    }
  }
  console.log(`live tensors: ${before} before the runs, ${tf.memory().numTensors} after`);
}

await main();
