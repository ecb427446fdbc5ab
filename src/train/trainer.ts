/**
 * The training loop behind `convnext train`: model, optimiser and data from a recipe; each step
 * a prefetched batch, the task's loss, gradients, clipping, AdamW; a JSONL log line every
 * `log_interval` steps; evaluation on held-out data every `eval.interval` steps with the best
 * weights kept; checkpoints every `checkpoint.interval` steps, at the end and when asked to stop
 * (SIGINT). `resume` continues from the latest checkpoint to the same result an uninterrupted run
 * reaches: weights, AdamW moments and step counts, schedule position, the training generator and
 * the data stream (a pure function of the seed and the step) are all restored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { backboneFrozen } from '../core/components.js';
import { UserError } from '../core/errors.js';
import { backbonePrefix } from '../config/models.js';
import { initBackend, type BackendChoice } from '../core/tfjs/backend.js';
import { TfjsDetOps } from '../core/tfjs/det-ops.js';
import { prepareTraining } from '../core/tfjs/grad/index.js';
import { TfjsParams } from '../core/tfjs/params.js';
import { fromHost } from '../core/tfjs/host.js';
import { bindInitWeights, bindWeights, initWeights, type WeightMap } from '../core/weights.js';
import type { DetBatch, SegBatch } from '../data/batch.js';
import { Prefetcher } from '../data/loader.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadWeights } from '../io/load-weights.js';
import { writeSafetensors } from '../io/safetensors.js';
import { Detector } from '../tasks/detection/detector.js';
import { Segmentor } from '../tasks/segmentation/segmentor.js';
import { type Checkpoint, readLatestCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { batchLosses } from './batch-losses.js';
import type { TrainRecipe } from './config.js';
import { detDataPaths, detTrainData, segTrainData, type TrainData } from './data.js';
import { evaluateDetector, evaluateSegmentor, type Metrics } from './evaluate.js';
import { buildOptimizer } from './optim/config.js';
import { installTrainGradients } from './grad-fixes.js';
import { TrainRng } from '../data/rng.js';
import { trainStep } from './step.js';

export interface TrainRunOptions {
  recipe: TrainRecipe;
  /** Training data: a folder (or, for detection, a COCO JSON file). */
  data: string;
  /** Image folder of a detection JSON given as `data` (default: images/ next to it). */
  images?: string;
  /** Held-out data for evaluation (same layout). */
  valData?: string;
  workDir: string;
  resume?: boolean;
  /** Stop after this many steps in total (default: the recipe's max_steps). */
  maxSteps?: number;
  backend?: BackendChoice;
  /** Human-readable lines (backend, resume, evaluation, checkpoints). */
  log?: (line: string) => void;
  /** Called after each step (progress display, tests). */
  onStep?: (s: StepInfo) => void;
  /** Polled between steps; true saves a checkpoint and returns (SIGINT). */
  shouldStop?: () => boolean;
}

/** What one step did. */
export interface StepInfo {
  step: number;
  /** Steps to run in total. */
  total: number;
  /** Step number this session started from. */
  start: number;
  loss: number;
  terms: Record<string, number>;
  lr: number;
  gradNorm?: number;
  /** Seconds of compute and of waiting for data. */
  time: number;
  dataTime: number;
}

export interface TrainSummary {
  /** Steps completed in total. */
  steps: number;
  /** Steps this call ran. */
  ran: number;
  stopped: boolean;
  lastLoss: number;
  metrics?: Metrics;
  best?: TrainerState['best'];
  checkpoint: string | null;
  seconds: number;
}

/** The metric that decides the best checkpoint. */
function bestMetric(model: Detector | Segmentor): string {
  return model instanceof Detector ? 'bbox_AP' : 'mIoU';
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Runs (or resumes) training; resolves when done or stopped. */
export async function train(o: TrainRunOptions): Promise<TrainSummary> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const r = o.recipe;
  const total = o.maxSteps ?? r.maxSteps;
  mkdirSync(o.workDir, { recursive: true });
  const latest = await readLatestCheckpoint(o.workDir);
  if (latest && !o.resume) throw new UserError(`${o.workDir} already holds checkpoints (latest step ${latest.state.step}): pass --resume to continue, or choose another --work-dir`);
  if (!latest && o.resume) log(`${o.workDir}: no checkpoint to resume from, starting at step 0`);
  if (latest) checkResumable(latest, r);

  await initBackend(o.backend ?? 'auto', log);
  await prepareTraining();
  installTrainGradients();

  const model = r.model.type === 'segmentor' ? new Segmentor(r.model) : new Detector(r.model);
  const data: TrainData<DetBatch | SegBatch> = model instanceof Detector ? detTrainData(r, detDataPaths(o.data, o.images)) : segTrainData(r, o.data);
  const registry = model.scope.registry;
  const val = o.valData ? (model instanceof Detector ? { det: detDataPaths(o.valData) } : { seg: o.valData }) : null;

  let weights: WeightMap;
  if (latest) weights = bindWeights(registry, latest.weights, { source: join(latest.dir, 'model.safetensors') }).weights;
  else if (r.initWeights) {
    const files: Array<{ tensors: WeightMap; source: string }> = [];
    for (const file of r.initWeights) files.push({ tensors: (await loadWeights(file)).tensors, source: file });
    const bound = bindInitWeights(registry, files, r.seed);
    weights = bound.weights;
    log(`init weights ${r.initWeights.join(' + ')}: ${bound.line}`);
  } else weights = initWeights(registry, r.seed);

  const params = new TfjsParams(weights, true);
  const rng = new TrainRng(r.seed);
  const opt = buildOptimizer(registry.all(), params.variables(), r.optimizer, r.schedule, backboneFrozen(model.backbone, backbonePrefix(r.model)));
  let start = 0;
  let best: TrainerState['best'];
  let elapsed = 0;
  if (latest) {
    opt.loadState(latest.optimizer, join(latest.dir, 'optimizer.safetensors'));
    rng.state = latest.state.rng;
    start = latest.state.step;
    best = latest.state.best;
    elapsed = latest.state.elapsed;
    log(`resumed from ${latest.dir} at step ${start}`);
  }
  await writeFileAtomic(join(o.workDir, 'config.json'), `${JSON.stringify(r.raw, null, 2)}\n`);
  const logFile = join(o.workDir, 'log.jsonl');
  // The detection op set is a superset of the plain one: one instance serves both tasks.
  const ops = new TfjsDetOps(params, true, rng.fn());

  const save = async (step: number): Promise<string> => {
    const state: TrainerState = {
      format: 'convnext-trainer', version: 1, step, rng: rng.state, optimizer: (await opt.state()).json, recipe: r.raw, best,
      elapsed: elapsed + (performance.now() - t0) / 1000,
    };
    const dir = await saveCheckpoint(o.workDir, await params.toHost(), await opt.state(), state, { keep: r.checkpoint.keep });
    log(`step ${step}: checkpoint ${dir}`);
    return dir;
  };

  const evaluate = async (step: number): Promise<Metrics | undefined> => {
    if (!val) return undefined;
    const te = performance.now();
    const host = await params.toHost();
    const engineOpts = { backend: o.backend, limit: r.eval.maxImages };
    const metrics = val.det
      ? await evaluateDetector(r.model as Extract<TrainRecipe['model'], { type: 'mask_rcnn' | 'cascade_mask_rcnn' }>, host, val.det, r.eval.engine, engineOpts)
      : await evaluateSegmentor(r.model as Extract<TrainRecipe['model'], { type: 'segmentor' }>, host, val.seg!, r.eval.engine, engineOpts);
    const name = bestMetric(model);
    const value = metrics[name];
    appendFileSync(logFile, `${JSON.stringify({ step, eval: metrics })}\n`);
    log(`step ${step}: ${Object.entries(metrics).filter(([k]) => !/_(AR|APs|APm|APl)/.test(k)).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')} (${((performance.now() - te) / 1000).toFixed(1)} s)`);
    if (best === undefined || value > best.value) {
      best = { metric: name, value, step };
      await writeSafetensors(join(o.workDir, 'best.safetensors'), host, { metadata: { step: String(step), [name]: String(value) } });
      await writeFileAtomic(join(o.workDir, 'best.json'), `${JSON.stringify({ ...best, metrics }, null, 2)}\n`);
      log(`step ${step}: new best ${name} ${value.toFixed(4)} -> ${join(o.workDir, 'best.safetensors')}`);
    }
    return metrics;
  };

  const prefetcher = new Prefetcher((k) => data.batch(k), start, r.prefetch);
  const clipNorm = r.optimizer.grad_clip?.max_norm;
  let step = start;
  let lastLoss = NaN;
  let lastCkpt: string | null = latest?.dir ?? null;
  let metrics: Metrics | undefined;
  let stopped = false;
  try {
    while (step < total) {
      if (o.shouldStop?.()) {
        stopped = true;
        break;
      }
      const td = performance.now();
      const { batch } = await prefetcher.next();
      const tc = performance.now();
      const lr = opt.groupLrs()[0] ?? 0;
      const x = fromHost(batch.images);
      let terms: Record<string, number> = {};
      let res;
      try {
        res = await trainStep(opt, params.variables(), () => {
          const l = batchLosses(model, ops, x, batch, r.detTrain, rng);
          terms = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.dataSync()[0]]));
          return tf.addN(Object.values(l)) as tf.Scalar;
        }, { clipNorm });
      } finally {
        x.dispose();
      }
      step++;
      lastLoss = res.loss;
      if (!Number.isFinite(res.loss)) {
        throw new UserError(`loss became ${res.loss} at step ${step} (${Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(', ')}); lower the lr or check the data`);
      }
      const info: StepInfo = { step, total, start, loss: res.loss, terms, lr, gradNorm: res.gradNorm, time: (performance.now() - tc) / 1000, dataTime: (tc - td) / 1000 };
      if (step % r.logInterval === 0 || step === total) {
        appendFileSync(logFile, `${JSON.stringify({ step, lr, loss: res.loss, ...terms, grad_norm: res.gradNorm, time: +info.time.toFixed(3), data_time: +info.dataTime.toFixed(3) })}\n`);
      }
      o.onStep?.(info);
      if (r.eval.interval > 0 && step % r.eval.interval === 0 && step < total) metrics = await evaluate(step);
      if (step % r.checkpoint.interval === 0 && step < total) lastCkpt = await save(step);
    }
    if (!stopped && val && step > start) metrics = await evaluate(step);
    if (step > start || stopped) lastCkpt = await save(step);
  } finally {
    opt.dispose();
    params.dispose();
  }
  return { steps: step, ran: step - start, stopped, lastLoss, metrics, best, checkpoint: lastCkpt, seconds: (performance.now() - t0) / 1000 };
}

/** A checkpoint can be resumed by `recipe` when the model and the data order are the same. */
function checkResumable(c: Checkpoint, r: TrainRecipe): void {
  const saved = c.state.recipe;
  if (!sameJson(saved.model, r.raw.model)) throw new UserError(`${c.dir}: the checkpoint's model config differs from ${r.name}'s; resume with the same config (or another --work-dir)`);
  for (const k of ['seed', 'batch_size'] as const) {
    if (!sameJson(saved[k], r.raw[k] ?? undefined) && saved[k] !== undefined && r.raw[k] !== undefined) {
      throw new UserError(`${c.dir}: the checkpoint was trained with ${k} ${JSON.stringify(saved[k])}, the config now says ${JSON.stringify(r.raw[k])}`);
    }
  }
}
