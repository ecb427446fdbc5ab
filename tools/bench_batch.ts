/**
 * Images per second at batch 1, 2 and 4 through the library API (`pipeline`), the path folder
 * runs (`detect`, `segment`, `classify --batch N`) and the server's batches take: pre-processing,
 * the engine run and post-processing, with decoding and writing files left out. For each task
 * the three batch sizes alternate in one process over the same images (the bundled demo samples,
 * 320², repeated), and medians are reported. Each batch size of a detector gets its own model
 * instance (a detector runner that has seen a batch runs the batched graph from then on), and
 * thread spinning is off so that idle instances leave the cores to the running one.
 *
 *   npx tsx tools/bench_batch.ts [--runs 7] [--images 8] [--threads 2] [--tasks object-detection,image-segmentation,image-classification]
 *     [--det-config mask-rcnn_convnext-t_fpn_3x_coco]   # another detector, random weights, test score_thr 0 (a full
 *                                                        # max_per_img of detections per image, the heads' worst case)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alternate, median } from '../src/core/bench.js';
import { readRgb } from '../src/io/image.js';
import { assetPath } from '../src/io/assets.js';
import { pipeline } from '../src/pipeline/index.js';
import type { Task } from '../src/pipeline/types.js';
import type { RgbImage } from '../src/image/rgb.js';
import { resolveConfig } from '../configs/index.js';
import type { DetectorConfig } from '../src/config/detector.js';
import { bindWeights, initWeights } from '../src/core/weights.js';
import { loadWeights } from '../src/io/load-weights.js';
import { createDetectorPredictor } from '../src/tasks/detection/detector-engine.js';
import { Detector } from '../src/tasks/detection/detector.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    images: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    tasks: { type: 'string', default: 'object-detection,image-segmentation,image-classification' },
    'det-config': { type: 'string', default: '' },
  },
});
const RUNS = Number(args.runs);
const IMAGES = Number(args.images);
const THREADS = Number(args.threads);
const TASKS = args.tasks.split(',') as Task[];
const DET_CONFIG = args['det-config'];
const BATCHES = [1, 2, 4];

const samples: RgbImage[] = [];
for (let i = 0; i < 4; i++) samples.push(await readRgb(join(assetPath('demo'), 'shapes', `shapes_${i}.png`)));
const images = Array.from({ length: IMAGES }, (_, i) => samples[i % samples.length]);

console.log(`bench_batch: ${IMAGES} images of 320², ${THREADS} threads, ${RUNS} rounds (medians)`);
/** Times `calls[b]` (8 images at batch b) alternately; prints images/s per batch size. */
async function report(task: string, calls: Array<(x: RgbImage[]) => Promise<unknown>>): Promise<void> {
  const contenders = BATCHES.map((b, i) => async () => {
    for (let s = 0; s < images.length; s += b) await calls[i](images.slice(s, s + b));
  });
  const times = await alternate(contenders, RUNS);
  const rates = times.map((t) => (1000 * IMAGES) / median(t));
  console.log(`${task}: ${BATCHES.map((b, i) => `batch ${b} ${rates[i].toPrecision(3)} img/s`).join(', ')}; batch 2 / 1 = ${(rates[1] / rates[0]).toFixed(2)}, 4 / 1 = ${(rates[2] / rates[0]).toFixed(2)}`);
}

for (const task of TASKS) {
  if (task === 'object-detection') {
    let det = new Detector(resolveConfig('demo_mask-rcnn_convnext-synth') as DetectorConfig);
    let weights = bindWeights(det.scope.registry, (await loadWeights(join(assetPath('demo'), 'mask-rcnn_convnext-synth.safetensors'))).tensors).weights;
    if (DET_CONFIG) {
      det = new Detector(resolveConfig(DET_CONFIG, ['roi_head.test.score_thr=0']) as DetectorConfig);
      weights = initWeights(det.scope.registry, 0);
    }
    const predictors = await Promise.all(BATCHES.map(() => createDetectorPredictor(det, weights, 'ort', { threads: THREADS, spinning: false })));
    await report(DET_CONFIG ? `${task} (${DET_CONFIG}, random weights, score_thr 0)` : task, predictors.map((p, i) => (x: RgbImage[]) => (BATCHES[i] === 1 ? p.predict(x[0]) : p.predictBatch(x))));
    for (const p of predictors) await p.dispose();
    continue;
  }
  const run = await pipeline(task, { threads: THREADS });
  const call = run as unknown as (x: RgbImage | RgbImage[]) => Promise<unknown>;
  await report(task, BATCHES.map((b) => (x: RgbImage[]) => call(b === 1 ? x[0] : x)));
  await run.dispose();
}
