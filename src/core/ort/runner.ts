/** Runs a Network on onnxruntime-node: the graph is built once, then sessions run host tensors. */
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../host-tensor.js';
import { checkTables, type Network } from '../model.js';
import type { WeightMap } from '../weights.js';
import { buildOnnx } from './build.js';

export interface OrtRunnerOptions {
  /** Intra-op threads (onnxruntime's default when omitted). */
  threads?: number;
  /** Let idle threads spin; turn off when two sessions alternate in one process. */
  spinning?: boolean;
  /** Build a fixed-size graph for this input shape [N, C, H, W] (dynamic when omitted). */
  inputShape?: readonly number[];
  /** The graph's name. */
  name?: string;
  /** How linear layers on feature maps are built (see OrtOpsOptions). */
  pointwise?: 'conv' | 'matmul';
}

/** Session options shared by every session the project creates. */
export function sessionOptions(o: OrtRunnerOptions = {}): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
  if (o.threads) opts.intraOpNumThreads = o.threads;
  if (o.spinning === false) opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return opts;
}

/** Runs an existing ONNX session with its NCHW input (the first) and named table inputs; outputs by name. */
export async function runSession(session: ort.InferenceSession, input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
  const feeds: Record<string, ort.Tensor> = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
  for (const [name, t] of Object.entries(tables)) feeds[name] = new ort.Tensor('float32', t.data, t.shape);
  const res = await session.run(feeds);
  const out: Record<string, HostTensor> = {};
  for (const name of session.outputNames) {
    const t = res[name];
    // Outputs of other element types (uint8 masks) come back as float, as every host tensor.
    out[name] = { shape: t.dims.map(Number), data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>) };
  }
  return out;
}

/** A network compiled to an onnxruntime session once, then run on host tensors. */
export class OrtRunner {
  private constructor(readonly session: ort.InferenceSession, private readonly net: Network, private readonly inputShape?: readonly number[]) {}

  static async create(net: Network, weights: WeightMap, opts: OrtRunnerOptions = {}): Promise<OrtRunner> {
    const s = opts.inputShape;
    if (s && (s.length !== 4 || s[1] !== net.inputChannels)) {
      throw new Error(`ort runner: input shape [${s.join(', ')}] is not [N, ${net.inputChannels}, H, W]`);
    }
    const model = buildOnnx(net, weights, { ...(s ? { batch: s[0], size: [s[2], s[3]] as [number, number] } : {}), name: opts.name, pointwise: opts.pointwise });
    const session = await ort.InferenceSession.create(model, sessionOptions(opts));
    return new OrtRunner(session, net, s);
  }

  async run(input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
    const s = this.inputShape;
    if (s && input.shape.join(',') !== s.join(',')) {
      throw new Error(`ort runner: built for input [${s.join(', ')}], got [${input.shape.join(', ')}]`);
    }
    checkTables(this.net, tables, input.shape[0]);
    return runSession(this.session, input, tables);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Runs a given ONNX model (an exported file's bytes) on host tensors: its first input is the image batch. */
export class OrtModelRunner {
  private constructor(readonly session: ort.InferenceSession) {}

  static async create(model: Uint8Array, opts: OrtRunnerOptions = {}): Promise<OrtModelRunner> {
    return new OrtModelRunner(await ort.InferenceSession.create(model, sessionOptions(opts)));
  }

  run(input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
    return runSession(this.session, input, tables);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
