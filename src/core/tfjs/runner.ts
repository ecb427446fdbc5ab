/** Runs a Network on TensorFlow.js with host tensors in and out (NCHW outside, NHWC inside). */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../host-tensor.js';
import { checkTables, type Network } from '../model.js';
import type { WeightMap } from '../weights.js';
import { TfjsParams } from './params.js';
import { TfjsDetOps } from './det-ops.js';
import { fromHost, toHost } from './host.js';

/** A network with its weights on TensorFlow.js, run on host tensors (inference mode). */
export class TfjsRunner {
  readonly params: TfjsParams;

  constructor(readonly net: Network, weights: WeightMap) {
    this.params = new TfjsParams(weights);
  }

  /** Forward pass in inference mode; all intermediate tensors are released. */
  async run(input: HostTensor, tables: Readonly<Record<string, HostTensor>> = {}): Promise<Record<string, HostTensor>> {
    checkTables(this.net, tables, input.shape[0]);
    const ops = new TfjsDetOps(this.params, false);
    const outs = tf.tidy(() => {
      const x = fromHost(input);
      return this.net.forward(ops, x, Object.fromEntries(Object.entries(tables).map(([k, t]) => [k, fromHost(t)])));
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
