/**
 * Element-wise loss terms with the gradients PyTorch gives: |x| with sign(x) (0 at 0, where
 * tfjs's abs gradient gives −1), and binary cross-entropy with logits in its stable form with
 * the exact gradient σ(x)·w − … at every x. Each is differentiable on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/** |d| with gradient sign(d) (PyTorch's abs backward). */
export function absWithSignGrad(d: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return { value: tf.abs(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sign(saved[0])) };
  });
  return f(d);
}

/**
 * Element-wise `binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction='none')`:
 * (1 − y)·x + l·(log(1 + e^−|x|) + max(−x, 0)) with l = (p − 1)·y + 1 (l = 1 without p).
 * Gradient with respect to x: (1 − y) − l·σ(−x). `y` is not differentiated.
 */
export function bceWithLogits(x: tf.Tensor, y: tf.Tensor, posWeight?: tf.Tensor): tf.Tensor {
  const yf = y.dtype === 'float32' ? y : tf.cast(y, 'float32');
  const l = posWeight ? tf.add(tf.mul(tf.sub(posWeight, 1), yf), 1) : null;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const softplusNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(logits)))), tf.relu(tf.neg(logits)));
    const value = tf.add(tf.mul(tf.sub(1, yf), logits), l ? tf.mul(l, softplusNeg) : softplusNeg);
    save(l ? [logits, yf, l] : [logits, yf]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys, ls] = saved;
        const sigNeg = tf.sigmoid(tf.neg(xs));
        return tf.mul(dy, tf.sub(tf.sub(1, ys), ls ? tf.mul(ls, sigNeg) : sigNeg));
      },
    };
  });
  return f(x);
}
