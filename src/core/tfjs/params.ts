/**
 * TensorFlow.js parameter holder: one variable per declared parameter, in PyTorch layout, plus a
 * cache of engine-layout views (HWIO conv kernels, reshaped per-channel vectors) for inference.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../host-tensor.js';
import type { ParamRef } from '../params.js';
import type { WeightMap } from '../weights.js';

/** Variables of a network's parameters on TensorFlow.js, with cached engine-layout views. */
export class TfjsParams {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly views = new Map<string, tf.Tensor>();

  /** `trainable`: variables that an optimizer updates; their views are never cached (they would go stale). */
  constructor(weights: WeightMap, private readonly trainable = false) {
    for (const [name, t] of weights) {
      const init = tf.tensor(t.data, t.shape, 'float32');
      this.vars.set(name, tf.variable(init, trainable));
      init.dispose();
    }
  }

  /** The variable of a parameter (PyTorch layout). */
  get(ref: ParamRef): tf.Variable {
    const v = this.vars.get(ref.name);
    if (!v) throw new Error(`tfjs engine: parameter ${ref.name} has no value`);
    return v;
  }

  /**
   * A derived view of a parameter (`make` builds it from the variable). Cached for inference with
   * fixed weights, so it pays layout conversions once; rebuilt every call while training (gradients
   * flow) and for trainable variables (their values change between calls).
   */
  view(ref: ParamRef, kind: string, training: boolean, make: (v: tf.Tensor) => tf.Tensor): tf.Tensor {
    if (training || this.trainable) return make(this.get(ref));
    const key = `${ref.name}#${kind}`;
    let t = this.views.get(key);
    if (!t) {
      t = tf.tidy(() => tf.keep(make(this.get(ref))));
      this.views.set(key, t);
    }
    return t;
  }

  /** All variables by name. */
  variables(): Map<string, tf.Variable> {
    return this.vars;
  }

  /** Current values back in host memory, PyTorch layout. */
  async toHost(): Promise<WeightMap> {
    const out: WeightMap = new Map();
    for (const [name, v] of this.vars) {
      const data = (await v.data()) as Float32Array;
      out.set(name, { shape: [...v.shape], data: new Float32Array(data) } satisfies HostTensor);
    }
    return out;
  }

  dispose(): void {
    for (const t of this.views.values()) t.dispose();
    this.views.clear();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
