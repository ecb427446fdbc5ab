/** Runs a Network on TensorFlow.js with host tensors in and out (NCHW outside, NHWC inside). */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../host-tensor.js';
import type { Network } from '../model.js';
import type { WeightMap } from '../weights.js';
import { TfjsParams } from './params.js';
import { TfjsDetOps } from './det-ops.js';

/** NCHW host tensor → NHWC tfjs tensor (rank 2 passes through). */
export function fromHost(t: HostTensor): tf.Tensor {
  const x = tf.tensor(t.data, t.shape, 'float32');
  if (t.shape.length !== 4) return x;
  const y = tf.transpose(x, [0, 2, 3, 1]);
  x.dispose();
  return y;
}

/** tfjs tensor (NHWC or [N, C]) → NCHW host tensor. Does not dispose `x`. */
export async function toHost(x: tf.Tensor): Promise<HostTensor> {
  const t = x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x;
  const data = new Float32Array((await t.data()) as Float32Array);
  const shape = [...t.shape];
  if (t !== x) t.dispose();
  return { shape, data };
}

/** A network with its weights on TensorFlow.js, run on host tensors (inference mode). */
export class TfjsRunner {
  readonly params: TfjsParams;

  constructor(readonly net: Network, weights: WeightMap) {
    this.params = new TfjsParams(weights);
  }

  /** Forward pass in inference mode; all intermediate tensors are released. */
  async run(input: HostTensor): Promise<Record<string, HostTensor>> {
    const ops = new TfjsDetOps(this.params, false);
    const outs = tf.tidy(() => {
      const x = fromHost(input);
      return this.net.forward(ops, x);
    });
    const result: Record<string, HostTensor> = {};
    try {
      for (const [k, v] of Object.entries(outs)) result[k] = await toHost(v);
    } finally {
      for (const v of Object.values(outs)) v.dispose();
    }
    return result;
  }

  dispose(): void {
    this.params.dispose();
  }
}
