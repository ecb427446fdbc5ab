/** Runs model-code functions over the detection ops on either engine, with host tensors in and out. */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { DetOps } from '../../src/core/det-ops.js';
import type { EngineName } from '../../src/core/engine.js';
import type { HostTensor } from '../../src/core/host-tensor.js';
import { GraphBuilder } from '../../src/core/ort/graph.js';
import { OrtDetOps } from '../../src/core/ort/det-ops.js';
import { initBackend } from '../../src/core/tfjs/backend.js';
import { TfjsDetOps } from '../../src/core/tfjs/det-ops.js';
import { toHost } from '../../src/core/tfjs/host.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import type { WeightMap } from '../../src/core/weights.js';

/** A function of model code: named inputs to named (float) outputs. */
export type DetFn = <T>(ops: DetOps<T>, x: Record<string, T>) => Record<string, T>;

/** Runs `fn` on `engine` (ONNX graph with dynamic dims, or eager tfjs on wasm). */
export async function runDet(engine: EngineName, inputs: Record<string, HostTensor>, fn: DetFn, weights: WeightMap = new Map()): Promise<Record<string, HostTensor>> {
  if (engine === 'ort') {
    const g = new GraphBuilder();
    const syms = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, g.input(k, v.shape.map((_, i) => `${k}_${i}`))]));
    const ops = new OrtDetOps(g, weights);
    const outs = fn(ops, syms);
    for (const [k, v] of Object.entries(outs)) g.output(k, ops.materialize(v));
    const session = await ort.InferenceSession.create(g.toBytes());
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)]));
    const res = await session.run(feeds);
    const host = Object.fromEntries(Object.keys(outs).map((k) => [k, { shape: res[k].dims.map(Number), data: res[k].data as Float32Array }]));
    await session.release();
    return host;
  }
  await initBackend('wasm');
  const params = new TfjsParams(weights);
  const ops = new TfjsDetOps(params, false);
  const outs = tf.tidy(() => fn(ops, Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, fromHost(v)]))));
  const host: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(outs)) host[k] = await toHost(v);
  for (const v of Object.values(outs)) v.dispose();
  params.dispose();
  return host;
}

/** Largest absolute difference (lengths must match). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Columns [from, to) of a [N, k] host table as a flat [N, to − from] array. */
export function cols(t: HostTensor, from: number, to: number): Float32Array {
  const [n, k] = t.shape;
  const out = new Float32Array(n * (to - from));
  for (let i = 0; i < n; i++) for (let j = from; j < to; j++) out[i * (to - from) + j - from] = t.data[i * k + j];
  return out;
}
