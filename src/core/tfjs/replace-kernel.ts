/** Swapping a registered TensorFlow.js kernel for a wrapper of it, once per process. */
import * as tf from '@tensorflow/tfjs-core';

const MARK = Symbol.for('convnext.replacedKernel');

/**
 * Replaces kernel `name` of `backend` by the kernel function `make` builds from the original
 * (setup/dispose hooks kept). Idempotent; false when the backend has no such kernel.
 */
export function replaceKernel(name: string, backend: string, make: (original: tf.KernelConfig) => tf.KernelFunc): boolean {
  const original = tf.getKernel(name, backend);
  if (!original) return false;
  if ((original as unknown as Record<symbol, boolean>)[MARK]) return true;
  const wrapped: tf.KernelConfig = { kernelName: name, backendName: backend, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc, kernelFunc: make(original) };
  (wrapped as unknown as Record<symbol, boolean>)[MARK] = true;
  tf.unregisterKernel(name, backend);
  tf.registerKernel(wrapped);
  return true;
}
