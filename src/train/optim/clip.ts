/** Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (norm type 2). */
import * as tf from '@tensorflow/tfjs-core';

export interface ClippedGrads {
  grads: Map<string, tf.Tensor>;
  /** Global L2 norm of the gradients before clipping. */
  totalNorm: tf.Scalar;
}

/**
 * Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the L2 norm of the norms of
 * each gradient (PyTorch's order of reduction). Returns new tensors; the inputs are not disposed.
 * No host round trip: the coefficient stays on the backend.
 */
export function clipGradNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): ClippedGrads {
  if (!(maxNorm > 0)) throw new Error(`gradient clipping: max norm must be > 0, got ${maxNorm}`);
  const entries = [...grads.entries()];
  if (entries.length === 0) return { grads: new Map(), totalNorm: tf.scalar(0) };
  const [totalNorm, ...scaled] = tf.tidy(() => {
    const norms = entries.map(([, g]) => tf.sqrt(tf.sum(tf.square(g))));
    const total = tf.sqrt(tf.sum(tf.square(tf.stack(norms))));
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    return [total, ...entries.map(([, g]) => tf.mul(g, coef))];
  });
  return { grads: new Map(entries.map(([name], i) => [name, scaled[i]])), totalNorm: totalNorm as tf.Scalar };
}
