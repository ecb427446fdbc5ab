/**
 * The wasm backend multiplies matrices fast only when neither operand is transposed (XNNPACK);
 * with `transposeA` or `transposeB` it falls back to a plain loop about ten times slower. Backward
 * passes of matMul use exactly those transposed forms (dW = dyᵀ·x, dx = dy·Wᵀ), so training on wasm
 * installs this wrapper: it materialises the transposes with the wasm Transpose kernel and calls the
 * original kernel untransposed. Same products, up to float summation order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { replaceKernel } from '../replace-kernel.js';

const BACKEND = 'wasm';

interface WasmLikeBackend {
  disposeData(dataId: object): boolean;
}

/** Swaps the last two axes of `t` through the backend's own Transpose kernel. */
function transposeLast2(t: tf.TensorInfo, backend: object, kernel: tf.KernelConfig): tf.TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return kernel.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/**
 * Replaces the wasm BatchMatMul kernel by the transposing wrapper (idempotent; a no-op when the
 * wasm backend is not registered). Returns true when the wrapper is in place.
 */
export function installWasmMatMul(): boolean {
  const transpose = tf.getKernel('Transpose', BACKEND);
  if (!transpose) return false;
  return replaceKernel('BatchMatMul', BACKEND, (original) => ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const at = transposeA ? transposeLast2(a, backend, transpose) : a;
    const bt = transposeB ? transposeLast2(b, backend, transpose) : b;
    try {
      return original.kernelFunc({ inputs: { a: at, b: bt }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      const be = backend as WasmLikeBackend;
      if (at !== a) be.disposeData(at.dataId);
      if (bt !== b) be.disposeData(bt.dataId);
    }
  });
}
