/**
 * `convnext bench`: median latency and peak memory of a model on one engine; with `--compare
 * FILE.onnx`, another ONNX model (e.g. torchvision's export) runs alternately in the same process
 * and the ratio of medians is printed. Thread spinning is off so alternating sessions do not steal
 * each other's cores (README, Benchmarks). The ort graph is built for the benchmark's input size, like
 * a fixed-size export (`--dynamic` times the dynamic-size graph instead).
 */
import { type Command, Option } from 'commander';
import * as ort from 'onnxruntime-node';
import { alternate, median, peakRssMb } from '../../core/bench.js';
import { createRunner } from '../../core/engine.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { runSession, sessionOptions } from '../../core/ort/runner.js';
import { mainNetwork, nativeSize } from '../../tasks/networks.js';
import { UserError } from '../../core/errors.js';
import { quantizeGraph } from '../../core/ort/quant/quantize-graph.js';
import { exportGraph } from '../../tasks/export-onnx.js';
import { addModelOptions, configFromFlags, type ModelFlags, positiveInt, weightsFor } from '../common.js';
import { parseSize } from './export.js';
import { DESCRIPTIONS } from './descriptions.js';

interface BenchFlags extends ModelFlags {
  size?: string;
  int8?: boolean;
  int8Mode?: 'static' | 'dynamic';
  runs: number;
  warmup: number;
  compare?: string;
  json?: boolean;
  dynamic?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('bench').description(DESCRIPTIONS['bench']);
  addModelOptions(cmd, { weights: 'optional' })
    .option('--size <HxW>', 'input size (default: the config\'s own, else 224)')
    .option('--runs <n>', 'timed runs', positiveInt('--runs'), 20)
    .option('--warmup <n>', 'untimed runs first', positiveInt('--warmup'), 3)
    .option('--compare <file.onnx>', 'another ONNX model to run alternately (same input), printing the time ratio')
    .option('--dynamic', 'ort: time the dynamic-size graph instead of one built for the input size')
    .option('--int8', 'ort: also time the model quantized to int8 (calibrated on the benchmark input), alternating, with the ratio int8/float')
    .addOption(new Option('--int8-mode <mode>', 'the --int8 quantization').choices(['static', 'dynamic']))
    .option('--json', 'print the result as JSON')
    .action(async (f: BenchFlags) => {
      const cfg = configFromFlags(f);
      const net = mainNetwork(cfg);
      if (f.int8 && f.engine !== 'ort') throw new UserError('--int8 runs on the ort engine');
      if (f.int8Mode !== undefined && !f.int8) throw new UserError('--int8-mode applies with --int8');
      const weights = await weightsFor(net.registry, f.weights, { quiet: true });
      const [h, w] = f.size ? parseSize(f.size) : nativeSize(cfg) ?? [224, 224];
      const input: HostTensor = { shape: [1, net.inputChannels, h, w], data: Float32Array.from({ length: net.inputChannels * h * w }, (_, i) => Math.sin(i * 0.01)) };
      const runner = await createRunner(f.engine, net, weights, {
        backend: f.backend, threads: f.threads, spinning: f.compare || f.int8 ? false : undefined, log: (l) => console.error(l),
        inputShape: f.dynamic ? undefined : input.shape,
      });
      let other: ort.InferenceSession | null = null;
      let int8: ort.InferenceSession | null = null;
      try {
        const contenders: Array<() => Promise<unknown>> = [() => runner.run(input)];
        if (f.compare) {
          other = await ort.InferenceSession.create(f.compare, sessionOptions({ threads: f.threads, spinning: false }));
          const o = other;
          contenders.push(() => runSession(o, input));
        }
        if (f.int8) {
          const size: [number, number] | null = f.dynamic ? null : [h, w];
          const fp32 = exportGraph(cfg, net, weights, { name: f.config ?? 'model', size, batch: 1, pointwise: 'matmul' });
          const q = await quantizeGraph(fp32, { mode: f.int8Mode ?? 'static', method: 'minmax', perChannel: true, threads: f.threads }, async (tap) => {
            await tap.run(input);
          });
          const s = (int8 = await ort.InferenceSession.create(q.bytes, sessionOptions({ threads: f.threads, spinning: false })));
          contenders.push(() => runSession(s, input));
        }
        const times = await alternate(contenders, f.runs, f.warmup);
        const ours = median(times[0]);
        const result: Record<string, unknown> = {
          config: f.config, engine: f.engine, size: [h, w], graph: f.engine === 'ort' ? (f.dynamic ? 'dynamic' : 'fixed') : undefined,
          threads: f.threads ?? 'default', runs: f.runs,
          median_ms: +ours.toFixed(2), peak_rss_mb: +peakRssMb().toFixed(0),
        };
        if (f.compare) {
          const theirs = median(times[1]);
          Object.assign(result, { compare: f.compare, compare_median_ms: +theirs.toFixed(2), ratio: +(ours / theirs).toFixed(3) });
        }
        if (f.int8) {
          const q = median(times[times.length - 1]);
          Object.assign(result, { int8_mode: f.int8Mode ?? 'static', int8_median_ms: +q.toFixed(2), int8_ratio: +(q / ours).toFixed(3) });
          if (f.compare) Object.assign(result, { int8_ratio_vs_compare: +(q / median(times[1])).toFixed(3) });
        }
        if (f.json) console.log(JSON.stringify(result));
        else {
          const graph = f.engine === 'ort' ? ` (${result.graph} graph)` : '';
          console.log(`${f.config} on ${f.engine}${graph} at ${h}x${w}, threads ${result.threads}: median ${ours.toFixed(1)} ms over ${f.runs} runs, peak RSS ${result.peak_rss_mb} MB`);
          if (f.compare) console.log(`${f.compare}: median ${(result.compare_median_ms as number).toFixed(1)} ms; ratio ours/theirs = ${result.ratio}`);
          if (f.int8) {
            const vs = f.compare ? `; int8/${f.compare} = ${result.int8_ratio_vs_compare}` : '';
            console.log(`int8 (${f.int8Mode ?? 'static'}): median ${(result.int8_median_ms as number).toFixed(1)} ms; ratio int8/float = ${result.int8_ratio}${vs}`);
          }
        }
      } finally {
        await runner.dispose();
        await other?.release();
        await int8?.release();
      }
    });
}
