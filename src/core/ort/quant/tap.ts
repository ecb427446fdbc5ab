/**
 * Calibration taps: a float model with intermediate values added as graph outputs, run on
 * onnxruntime as an ordinary runner (the model's own outputs) while each run's tapped values go to
 * an observer. And what onnxruntime made of a quantized model: its optimized graph's kernels.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../../host-tensor.js';
import { runSession, sessionOptions, type OrtRunnerOptions } from '../runner.js';
import { decodeModel, encodeModel, floatOutput, type OnnxModelObject } from './onnx-proto.js';

/** Receives the tapped values of one run. */
export type TapObserver = (name: string, data: Float32Array) => void;

/** `model` with `names` added as outputs (those not outputs already). */
export function withTaps(model: OnnxModelObject, names: readonly string[]): Uint8Array {
  const have = new Set(model.graph.output.map((o) => o.name));
  const copy: OnnxModelObject = { ...model, graph: { ...model.graph, output: [...model.graph.output, ...names.filter((n) => !have.has(n)).map(floatOutput)] } };
  return encodeModel(copy);
}

/** Runs a tapped model: run() returns the model's own outputs; the taps go to the observer. */
export class TapRunner {
  observer: TapObserver | null = null;

  private constructor(private readonly session: ort.InferenceSession, private readonly own: ReadonlySet<string>, private readonly taps: readonly string[]) {}

  /** A runner of `model` (decoded) tapping `names`. */
  static async create(model: OnnxModelObject, names: readonly string[], opts: OrtRunnerOptions = {}): Promise<TapRunner> {
    const own = new Set(model.graph.output.map((o) => o.name));
    const session = await ort.InferenceSession.create(withTaps(model, names), sessionOptions(opts));
    return new TapRunner(session, own, names);
  }

  async run(input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
    const all = await runSession(this.session, input, tables);
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(all)) if (this.own.has(name)) out[name] = t;
    if (this.observer) for (const name of this.taps) if (all[name]) this.observer(name, all[name].data);
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Convolutions and matrix products that run on integers in onnxruntime's CPU kernels. */
const INTEGER_OPS = new Set([
  'QLinearConv', 'NhwcQLinearConv', 'QLinearMatMul', 'QGemm', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'ConvInteger', 'MatMulInteger',
]);

/** Kernel counts of a model after onnxruntime's graph optimizations. */
export interface KernelCount {
  /** Convolutions and matrix products that run on integers, by operator. */
  integer: Record<string, number>;
  /** Convolutions and matrix products left in float (Conv, Gemm, MatMul, FusedConv, …). */
  float: Record<string, number>;
}

/** Counts the integer and float convolution/matmul kernels onnxruntime runs for `model`. */
export async function countKernels(model: Uint8Array, opts: OrtRunnerOptions = {}): Promise<KernelCount> {
  const dir = mkdtempSync(join(tmpdir(), 'convnext-kernels-'));
  try {
    const file = join(dir, 'optimized.onnx');
    // Severity 3: onnxruntime warns that an optimized file is hardware specific, which is the point here.
    const session = await ort.InferenceSession.create(model, { ...sessionOptions(opts), optimizedModelFilePath: file, logSeverityLevel: 3 });
    await session.release();
    const optimized = decodeModel(readFileSync(file));
    const integer: Record<string, number> = {};
    const float: Record<string, number> = {};
    for (const n of optimized.graph.node) {
      if (INTEGER_OPS.has(n.opType)) integer[n.opType] = (integer[n.opType] ?? 0) + 1;
      else if (/^(Conv|FusedConv|Gemm|FusedGemm|MatMul|FusedMatMul|ConvTranspose)$/.test(n.opType)) float[n.opType] = (float[n.opType] ?? 0) + 1;
    }
    return { integer, float };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
