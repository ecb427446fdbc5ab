/** Runs a Network on onnxruntime-node: the graph is built once, then sessions run host tensors. */
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../host-tensor.js';
import type { Network } from '../model.js';
import type { WeightMap } from '../weights.js';
import { buildOnnx } from './build.js';

export interface OrtRunnerOptions {
  /** Intra-op threads (onnxruntime's default when omitted). */
  threads?: number;
  /** Let idle threads spin; turn off when two sessions alternate in one process. */
  spinning?: boolean;
}

/** Session options shared by every session the project creates. */
export function sessionOptions(o: OrtRunnerOptions = {}): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
  if (o.threads) opts.intraOpNumThreads = o.threads;
  if (o.spinning === false) opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return opts;
}

/** Runs an existing ONNX session with one NCHW input; outputs by name. */
export async function runSession(session: ort.InferenceSession, input: HostTensor): Promise<Record<string, HostTensor>> {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
  const res = await session.run(feeds);
  const out: Record<string, HostTensor> = {};
  for (const name of session.outputNames) {
    const t = res[name];
    out[name] = { shape: t.dims.map(Number), data: t.data as Float32Array };
  }
  return out;
}

/** A network compiled to an onnxruntime session once, then run on host tensors. */
export class OrtRunner {
  private constructor(readonly session: ort.InferenceSession) {}

  static async create(net: Network, weights: WeightMap, opts: OrtRunnerOptions = {}): Promise<OrtRunner> {
    const model = buildOnnx(net, weights);
    const session = await ort.InferenceSession.create(model, sessionOptions(opts));
    return new OrtRunner(session);
  }

  run(input: HostTensor): Promise<Record<string, HostTensor>> {
    return runSession(this.session, input);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
