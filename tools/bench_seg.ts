/**
 * Segmentation benchmark (issue 4, Performance): UPerNet ConvNeXt (512 channels, 150 classes) on
 * `ort` and `tfjs`: median latency of the network (image → logits at the input size) and peak
 * RSS, per engine and input size, each measured in its own child process. With `--anchor`, the
 * PyTorch export of the same network (tools/export_upernet_anchor.py, same weights) runs
 * alternately with ours in one process, thread spinning off (README, Benchmarks), and the ratio of
 * medians is printed.
 *
 *   /usr/bin/python3 tools/export_upernet_anchor.py --size 576 --onnx /tmp/anchor.onnx --weights /tmp/upernet.safetensors
 *   npx tsx tools/bench_seg.ts --weights /tmp/upernet.safetensors --anchor /tmp/anchor.onnx --anchor-size 576
 *
 * Flags: --config NAME (upernet_convnext-t_512x512_160k_ade20k), --sizes 512,576, --engines ort,tfjs,
 * --runs N (ort; tfjs runs max(2, N/4)), --threads N (onnxruntime intra-op threads, default 2),
 * --head (stop at the head's logits, stride 4; use an anchor exported with --head-only),
 * --json FILE (write all results).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { alternate, median, peakRssMb } from '../src/core/bench.js';
import { createRunner, type EngineName } from '../src/core/engine.js';
import type { HostTensor } from '../src/core/host-tensor.js';
import { runSession, sessionOptions } from '../src/core/ort/runner.js';
import { bindWeights, initWeights, type WeightMap } from '../src/core/weights.js';
import { resolveConfig } from '../configs/index.js';
import { loadWeights } from '../src/io/load-weights.js';
import { Segmentor } from '../src/tasks/segmentation/segmentor.js';

interface Job {
  config: string;
  engine: EngineName;
  size: number;
  runs: number;
  threads: number;
  weights?: string;
  anchor?: string;
  /** Stop at the head's logits (stride 4) instead of upsampling them to the input size. */
  head?: boolean;
}

interface Result {
  engine: EngineName;
  output: 'logits at input size' | 'head logits (stride 4)';
  size: [number, number];
  threads: number | string;
  runs: number;
  median_ms: number;
  min_ms: number;
  peak_rss_mb: number;
  anchor?: string;
  anchor_median_ms?: number;
  ratio?: number;
}

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

function input(size: number): HostTensor {
  const n = 3 * size * size;
  return { shape: [1, 3, size, size], data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01) * 1.5) };
}

async function weightsFor(model: Segmentor, file?: string): Promise<WeightMap> {
  if (!file) return initWeights(model.scope.registry, 0);
  const { tensors } = await loadWeights(file);
  return bindWeights(model.scope.registry, tensors, { allowMissing: true }).weights;
}

/** One measurement, in this process. */
async function runJob(job: Job): Promise<Result> {
  const cfg = resolveConfig(job.config);
  if (cfg.type !== 'segmentor') throw new Error(`${job.config} is not a segmentor`);
  const model = new Segmentor(cfg);
  const weights = await weightsFor(model, job.weights);
  const x = input(job.size);
  // Built for the input size, like the anchor's fixed-size export.
  const runner = await createRunner(job.engine, model.network({ upsample: !job.head }), weights, {
    backend: 'wasm', threads: job.threads, spinning: false, log: (l) => console.error(l), inputShape: x.shape,
  });
  const contenders: Array<() => Promise<unknown>> = [() => runner.run(x)];
  let anchor: ort.InferenceSession | null = null;
  if (job.anchor) {
    anchor = await ort.InferenceSession.create(job.anchor, sessionOptions({ threads: job.threads, spinning: false }));
    const s = anchor;
    contenders.push(() => runSession(s, x));
  }
  const warmup = job.engine === 'tfjs' ? 1 : 2;
  const times = await alternate(contenders, job.runs, warmup);
  const ours = median(times[0]);
  const result: Result = {
    engine: job.engine, output: job.head ? 'head logits (stride 4)' : 'logits at input size', size: [job.size, job.size], threads: job.engine === 'ort' ? job.threads : 'wasm default', runs: job.runs,
    median_ms: +ours.toFixed(1), min_ms: +Math.min(...times[0]).toFixed(1), peak_rss_mb: Math.round(peakRssMb()),
  };
  if (job.anchor) {
    const theirs = median(times[1]);
    Object.assign(result, { anchor: job.anchor, anchor_median_ms: +theirs.toFixed(1), ratio: +(ours / theirs).toFixed(3) });
  }
  await runner.dispose();
  await anchor?.release();
  return result;
}

/** Runs one job in a child process (so that peak RSS is its own). */
function spawnJob(job: Job): Result {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, script, '--job', JSON.stringify(job)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`benchmark job ${JSON.stringify(job)} failed (exit ${r.status})`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Result;
}

async function main(): Promise<void> {
  const jobArg = arg('job');
  if (jobArg) {
    console.log(JSON.stringify(await runJob(JSON.parse(jobArg) as Job)));
    return;
  }
  const config = arg('config', 'upernet_convnext-t_512x512_160k_ade20k') as string;
  const sizes = (arg('sizes', '512,576') as string).split(',').map(Number);
  const engines = (arg('engines', 'ort,tfjs') as string).split(',') as EngineName[];
  const runs = Number(arg('runs', '5'));
  const threads = Number(arg('threads', '2'));
  const weights = arg('weights');
  const anchor = arg('anchor');
  const anchorSize = Number(arg('anchor-size', '576'));
  const head = process.argv.includes('--head');
  const results: Result[] = [];
  for (const engine of engines) {
    for (const size of sizes) {
      const job: Job = { config, engine, size, runs: engine === 'tfjs' ? Math.max(2, Math.floor(runs / 4)) : runs, threads, weights, head };
      if (engine === 'ort' && anchor && size === anchorSize) job.anchor = anchor;
      const r = spawnJob(job);
      results.push(r);
      const vs = r.ratio !== undefined ? `; anchor (PyTorch export) ${r.anchor_median_ms} ms, ratio ${r.ratio}` : '';
      console.log(`${config} ${engine} ${size}x${size} (${r.output}) threads ${r.threads}: median ${r.median_ms} ms (min ${r.min_ms}) over ${r.runs} runs, peak RSS ${r.peak_rss_mb} MB${vs}`);
    }
  }
  const out = arg('json');
  if (out) writeFileSync(out, JSON.stringify({ config, cpus: (await import('node:os')).cpus().length, results }, null, 2));
}

await main();
