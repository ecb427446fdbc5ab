/**
 * Training-step benchmark: forward + backward + AdamW update of a ConvNeXt classifier
 * (cross-entropy on a fixed batch) on the TensorFlow.js wasm and cpu backends, alternating the two
 * in one process (README, Benchmarks), medians. Also the forward pass alone (training mode) for context.
 *
 *   npx tsx tools/bench_train_step.ts                                  # test_convnextv2-narrow_cls7, 2×64×64
 *   npx tsx tools/bench_train_step.ts --config convnext-t_in1k --size 224 --batch 1 --runs 3 --warmup 1
 *   npx tsx tools/bench_train_step.ts --recipe demo_upernet_synth --data .work/demo/seg-train --runs 5
 *   npx tsx tools/bench_train_step.ts --recipe demo_mask-rcnn_synth --data .work/demo/det-train --runs 5
 *
 * With --recipe (a detection / segmentation training recipe) a step is the recipe's own loss on its
 * first batch from --data (its batch size and pipeline), forward + backward + AdamW.
 *
 * Flags: --config NAME, --size PX, --batch N, --runs N (rounds, default 7), --warmup N (default 2),
 * --backends wasm,cpu, --json FILE.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { median } from '../src/core/bench.js';
import { prepareTraining } from '../src/core/tfjs/grad/index.js';
import { TfjsOps } from '../src/core/tfjs/ops.js';
import { TfjsParams } from '../src/core/tfjs/params.js';
import { fromHost } from '../src/core/tfjs/host.js';
import { initWeights } from '../src/core/weights.js';
import { resolveConfig } from '../configs/index.js';
import { Classifier } from '../src/tasks/classification/classifier.js';
import { crossEntropy } from '../src/core/tfjs/losses/index.js';
import { buildOptimizer, optimizerSchema, scheduleSchema } from '../src/train/optim/index.js';
import { trainStep } from '../src/train/step.js';
import { TfjsDetOps } from '../src/core/tfjs/det-ops.js';
import { Detector } from '../src/tasks/detection/detector.js';
import { Segmentor } from '../src/tasks/segmentation/segmentor.js';
import { batchLosses } from '../src/train/batch-losses.js';
import { resolveRecipe } from '../configs/index.js';
import { detDataPaths, detTrainData, segTrainData } from '../src/train/data.js';
import { installTrainGradients } from '../src/train/grad-fixes.js';
import { TrainRng } from '../src/data/rng.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const config = arg('config', 'test_convnextv2-narrow_cls7');
const size = Number(arg('size', '64'));
const batch = Number(arg('batch', '2'));
const runs = Number(arg('runs', '7'));
const warmup = Number(arg('warmup', '2'));
const backends = arg('backends', 'wasm,cpu').split(',');
const jsonOut = process.argv.includes('--json') ? arg('json', '') : '';
const recipeName = arg('recipe', '');
const dataDir = arg('data', '');

interface Contender {
  backend: string;
  step: () => Promise<number>;
  forward: () => Promise<void>;
  dispose: () => void;
}

/** A detection / segmentation recipe's step on its first batch of `dataDir`. */
async function setupRecipe(backend: string): Promise<Contender> {
  await tf.setBackend(backend);
  await tf.ready();
  installTrainGradients();
  const r = resolveRecipe(recipeName);
  const model = r.model.type === 'mask_rcnn' || r.model.type === 'cascade_mask_rcnn' ? new Detector(r.model) : r.model.type === 'segmentor' ? new Segmentor(r.model) : null;
  if (!model) throw new Error(`${recipeName}: not a detection or segmentation recipe`);
  const params = new TfjsParams(initWeights(model.scope.registry, r.seed), true);
  const rng = new TrainRng(r.seed);
  const ops = new TfjsDetOps(params, true, rng.fn());
  const opt = buildOptimizer(model.scope.registry.all(), params.variables(), r.optimizer, r.schedule);
  const batch = model instanceof Detector ? await detTrainData(r, detDataPaths(dataDir)).batch(0) : await segTrainData(r, dataDir).batch(0);
  const x = fromHost(batch.images);
  const loss = () => tf.addN(Object.values(batchLosses(model, ops, x, batch, r.detTrain, rng))) as tf.Scalar;
  return {
    backend,
    step: async () => (await trainStep(opt, params.variables(), loss, { clipNorm: r.optimizer.grad_clip?.max_norm })).loss,
    forward: async () => {
      const out = tf.tidy(() => loss());
      await out.data();
      out.dispose();
    },
    dispose: () => {
      opt.dispose();
      params.dispose();
      x.dispose();
    },
  };
}

async function setup(backend: string): Promise<Contender> {
  if (recipeName) return setupRecipe(backend);
  await tf.setBackend(backend);
  await tf.ready();
  const cfg = resolveConfig(config);
  if (cfg.type !== 'classifier') throw new Error(`${config}: the benchmark needs a classifier config`);
  const net = new Classifier(cfg).network();
  const params = new TfjsParams(initWeights(net.registry, 1), true);
  const ops = new TfjsOps(params, true);
  const opt = buildOptimizer(net.registry.all(), params.variables(), optimizerSchema.parse({ lr: 1e-4 }), scheduleSchema.parse({ policy: 'fixed' }));
  const n = batch * 3 * size * size;
  const x = fromHost({ shape: [batch, 3, size, size], data: Float32Array.from({ length: n }, (_, i) => Math.sin(0.01 * i)) });
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % cfg.num_classes), 'int32');
  return {
    backend,
    step: async () => (await trainStep(opt, params.variables(), () => crossEntropy(net.forward(ops, x).logits, y) as tf.Scalar)).loss,
    forward: async () => {
      const out = tf.tidy(() => net.forward(ops, x).logits);
      await out.data();
      out.dispose();
    },
    dispose: () => {
      opt.dispose();
      params.dispose();
      tf.dispose([x, y]);
    },
  };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  await prepareTraining();
  const contenders: Contender[] = [];
  for (const b of backends) contenders.push(await setup(b));
  const stepTimes = contenders.map(() => [] as number[]);
  const fwdTimes = contenders.map(() => [] as number[]);
  for (let r = 0; r < warmup + runs; r++) {
    for (const [i, c] of contenders.entries()) {
      await tf.setBackend(c.backend);
      const ts = await timed(c.step);
      const tf_ = await timed(c.forward);
      if (r >= warmup) {
        stepTimes[i].push(ts);
        fwdTimes[i].push(tf_);
      }
      console.error(`${r < warmup ? 'warm-up' : `run ${r - warmup + 1}/${runs}`} ${c.backend}: step ${ts.toFixed(0)} ms, forward ${tf_.toFixed(0)} ms`);
    }
  }
  const rows = contenders.map((c, i) => ({
    backend: c.backend, step_median_ms: median(stepTimes[i]), forward_median_ms: median(fwdTimes[i]), runs: stepTimes[i].length,
  }));
  const what = recipeName ? `${recipeName} on the first batch of ${dataDir}` : `${config}, batch ${batch}×3×${size}×${size}`;
  console.log(`${what}; forward + backward + AdamW (train mode; "forward" = the loss alone), ${runs} alternating rounds after ${warmup} warm-up`);
  console.log(`wasm: SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off (single-threaded)'}; node ${process.version}`);
  for (const r of rows) console.log(`  ${r.backend.padEnd(5)} step ${r.step_median_ms.toFixed(1).padStart(9)} ms   forward ${r.forward_median_ms.toFixed(1).padStart(9)} ms`);
  const w = rows.find((r) => r.backend === 'wasm');
  const c = rows.find((r) => r.backend === 'cpu');
  if (w && c) console.log(`  cpu / wasm step time: ${(c.step_median_ms / w.step_median_ms).toFixed(2)}×`);
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ config: recipeName || config, batch, size, warmup, runs, simd, threads, rows }, null, 2)}\n`);
  for (const ct of contenders) {
    await tf.setBackend(ct.backend);
    ct.dispose();
  }
}

await main();
