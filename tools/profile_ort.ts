/**
 * Where onnxruntime spends a model's time. Runs ONNX files alternately with the session options
 * of `convnext bench` (optimisation level 'all', sequential, thread spinning off) and
 * onnxruntime's profiler on, then prints for each model:
 * - its median wall time;
 * - its kernel time per run by kind: 1×1 convs, depthwise convs, other convs, then per op type;
 * - the GFLOP/s of its 1×1 convs and its multi-row Gemm/MatMul (the pointwise layers).
 *
 * `--strip-layernorm` adds a variant of the first model with every LayerNormalization replaced
 * by Identity. Its outputs are wrong, but its time bounds what any LayerNorm lowering could save.
 *
 *   ./bin/convnext.js export -c convnext-t_in1k -w W.safetensors --out /tmp/ours.onnx
 *   npx tsx tools/profile_ort.ts /tmp/ours.onnx .work/tv/tv_convnext_tiny.onnx --strip-layernorm
 *
 * Flags: --runs N (30), --warmup N (3), --threads N (2), --size S or HxW (224; input [1, 3, H, W]).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { alternate, median } from '../src/core/bench.js';
import { ModelProto } from '../src/core/ort/graph.js';
import { sessionOptions } from '../src/core/ort/runner.js';

interface ProfileEvent {
  cat?: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

interface Contender {
  label: string;
  model: string | Uint8Array;
}

interface Breakdown {
  /** Kernel µs per run, by kind. */
  kinds: Map<string, number>;
  /** Pointwise layers: µs and FLOPs per run. */
  pointwise: { us: number; flops: number };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    size: { type: 'string', default: '224' },
    'strip-layernorm': { type: 'boolean', default: false },
  },
});
if (positionals.length === 0) {
  console.error('usage: npx tsx tools/profile_ort.ts A.onnx [B.onnx ...] [--runs N] [--warmup N] [--threads N] [--size HxW] [--strip-layernorm]');
  process.exit(2);
}
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const threads = Number(values.threads);
const [h, w] = values.size.includes('x') ? values.size.split('x').map(Number) : [Number(values.size), Number(values.size)];

/** The model with every LayerNormalization turned into Identity of its first input. */
function stripLayerNorm(file: string): { bytes: Uint8Array; count: number } {
  const model = ModelProto.toObject(ModelProto.decode(readFileSync(file)), { longs: Number }) as {
    graph: { node: Array<{ opType: string; input: string[]; output: string[]; attribute?: unknown[] }> };
  };
  let count = 0;
  for (const node of model.graph.node) {
    if (node.opType !== 'LayerNormalization') continue;
    node.opType = 'Identity';
    node.input = node.input.slice(0, 1);
    node.output = node.output.slice(0, 1);
    node.attribute = [];
    count++;
  }
  return { bytes: ModelProto.encode(ModelProto.fromObject(model)).finish(), count };
}

/** Kind of one profiled kernel and, for pointwise layers, its FLOPs. */
function classify(e: ProfileEvent): { kind: string; flops?: number } {
  const op = e.args?.op_name ?? '?';
  const ins = (e.args?.input_type_shape ?? []).map((d) => Object.values(d)[0] ?? []);
  const outs = (e.args?.output_type_shape ?? []).map((d) => Object.values(d)[0] ?? []);
  const out = outs[0] ?? [];
  const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  if (op === 'Conv' || op === 'NchwcConv' || op === 'FusedConv') {
    const [x, wt] = ins;
    if (!x || !wt || wt.length !== 4) return { kind: 'Conv (other)' };
    if (wt[1] === 1 && x[1] > 1) return { kind: 'Conv depthwise' };
    if (wt[2] === 1 && wt[3] === 1) return { kind: 'Conv 1x1', flops: 2 * count(out) * wt[1] };
    return { kind: `Conv ${wt[2]}x${wt[3]}` };
  }
  if ((op === 'Gemm' || op === 'MatMul' || op === 'FusedMatMul') && ins[0] && out.length >= 2) {
    const k = ins[0][ins[0].length - 1];
    const rows = count(out) / out[out.length - 1];
    if (rows > 1) return { kind: `${op} (pointwise)`, flops: 2 * count(out) * k };
  }
  return { kind: op };
}

/** Per-run kernel time by kind from one profile file, skipping the first `skip` runs. */
function breakdown(file: string, skip: number): Breakdown {
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const kinds = new Map<string, number>();
  const pointwise = { us: 0, flops: 0 };
  let seen = 0;
  let timed = 0;
  // Node events of a run come before that run's model_run event.
  let pending: ProfileEvent[] = [];
  for (const e of events) {
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) pending.push(e);
    else if (e.cat === 'Session' && e.name === 'model_run') {
      if (seen++ >= skip) {
        timed++;
        for (const k of pending) {
          const c = classify(k);
          kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + k.dur);
          if (c.flops !== undefined) {
            pointwise.us += k.dur;
            pointwise.flops += c.flops;
          }
        }
      }
      pending = [];
    }
  }
  for (const [k, v] of kinds) kinds.set(k, v / timed);
  return { kinds, pointwise: { us: pointwise.us / timed, flops: pointwise.flops / timed } };
}

async function main(): Promise<void> {
  const contenders: Contender[] = positionals.map((f) => ({ label: basename(f), model: f }));
  if (values['strip-layernorm']) {
    const { bytes, count } = stripLayerNorm(positionals[0]);
    contenders.push({ label: `${basename(positionals[0])} without its ${count} LayerNorms`, model: bytes });
  }
  const dir = mkdtempSync(join(tmpdir(), 'profile-ort-'));
  try {
    const sessions: ort.InferenceSession[] = [];
    for (const [i, c] of contenders.entries()) {
      const opts = { ...sessionOptions({ threads, spinning: false }), enableProfiling: true, profileFilePrefix: join(dir, `m${i}`) };
      sessions.push(typeof c.model === 'string' ? await ort.InferenceSession.create(c.model, opts) : await ort.InferenceSession.create(c.model, opts));
    }
    const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.01)), [1, 3, h, w]);
    const times = await alternate(sessions.map((s) => () => s.run({ [s.inputNames[0]]: x })), runs, warmup);
    for (const s of sessions) s.endProfiling();
    const files = readdirSync(dir);
    const last = median(times[positionals.length - 1]);
    console.log(`${h}x${w}, threads ${threads}, spinning off, ${runs} alternating runs (profiler on)`);
    for (const [i, c] of contenders.entries()) {
      const file = files.find((f) => f.startsWith(`m${i}_`));
      if (!file) throw new Error(`no profile written for ${c.label}`);
      const b = breakdown(join(dir, file), warmup);
      const wall = median(times[i]);
      const total = [...b.kinds.values()].reduce((a, v) => a + v, 0);
      console.log(`\n${c.label}: median ${wall.toFixed(1)} ms (${(wall / last).toFixed(3)}x the last file), kernels ${(total / 1000).toFixed(1)} ms per run`);
      for (const [k, v] of [...b.kinds].sort((p, q) => q[1] - p[1])) console.log(`  ${k.padEnd(26)} ${(v / 1000).toFixed(2).padStart(7)} ms`);
      if (b.pointwise.us > 0) console.log(`  pointwise layers: ${(b.pointwise.flops / b.pointwise.us / 1000).toFixed(0)} GFLOP/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
