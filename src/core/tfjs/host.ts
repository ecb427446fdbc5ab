/** Host tensors ↔ TensorFlow.js tensors: NCHW outside, NHWC inside (tables pass through). */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../host-tensor.js';

/** NCHW host tensor → NHWC tfjs tensor (rank 2 passes through). */
export function fromHost(t: HostTensor): tf.Tensor {
  const x = tf.tensor(t.data, t.shape, 'float32');
  if (t.shape.length !== 4) return x;
  const y = tf.transpose(x, [0, 2, 3, 1]);
  x.dispose();
  return y;
}

/**
 * tfjs tensor (NHWC, or a table) → host tensor (NCHW, or the table), empty tensors included (the
 * wasm backend's Transpose traps on them). Does not dispose `x`.
 */
export async function toHost(x: tf.Tensor): Promise<HostTensor> {
  if (x.size === 0) {
    const s = [...x.shape];
    return { shape: x.rank === 4 ? [s[0], s[3], s[1], s[2]] : s, data: new Float32Array(0) };
  }
  const t = x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x;
  const data = new Float32Array((await t.data()) as Float32Array);
  const shape = [...t.shape];
  if (t !== x) t.dispose();
  return { shape, data };
}
