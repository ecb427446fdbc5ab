/** Differentiable convolutions and the gradient set-up for training on every TensorFlow.js backend (wasm included). */
import { ensureGradients } from './gradients.js';
import { installWasmMatMul } from './wasm-matmul.js';
import { installWasmSlice } from '../wasm-slice.js';

export { type ConvGeometry, geometry } from './geometry.js';
export { trainConv2d, trainConvTranspose2d, trainDepthwiseConv2d } from './kernels.js';
export { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad } from './conv-backprop.js';
export { ensureGradients } from './gradients.js';
export { installWasmMatMul } from './wasm-matmul.js';

/**
 * Everything training needs before the first gradient: tfjs's gradient functions registered, and
 * on wasm the fast transposed matMul and the heap-view slices. Call after the backend is chosen;
 * idempotent.
 */
export async function prepareTraining(): Promise<void> {
  await ensureGradients();
  installWasmMatMul();
  installWasmSlice();
}
