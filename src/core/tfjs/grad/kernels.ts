/**
 * Differentiable convolutions for training on any TensorFlow.js backend.
 *
 * Each is a kernel of its own name whose forward delegates to the active backend's own kernel
 * (Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput: same numbers as inference) and whose
 * gradient is built from forward ops only (./conv-backprop.ts). Gradients are thunks, so the
 * gradient of an input that needs none (the image under the stem) is never computed. Kernels are
 * registered lazily for whichever backend is active when first used.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad } from './conv-backprop.js';
import { type ConvGeometry, outSize, tfPad } from './geometry.js';

const CONV = 'ConvnextTrainConv2D';
const DEPTHWISE = 'ConvnextTrainDepthwiseConv2D';
const TRANSPOSE = 'ConvnextTrainConvTranspose2D';

type T4 = tf.Tensor4D;

/** Attributes the custom kernels carry (JSON-like, as tfjs attributes must be). */
interface GeometryAttrs {
  strides: number[];
  dilations: number[];
  pads: number[];
}

function toAttrs(g: ConvGeometry): GeometryAttrs {
  return { strides: [...g.strides], dilations: [...g.dilations], pads: [...g.pads] };
}

function fromAttrs(a: tf.NamedAttrMap): ConvGeometry {
  const s = a.strides as number[];
  const d = a.dilations as number[];
  const p = a.pads as number[];
  return { strides: [s[0], s[1]], dilations: [d[0], d[1]], pads: [p[0], p[1], p[2], p[3]] };
}

/** The attributes the backends' own convolution kernels expect. */
function nativeConvAttrs(g: ConvGeometry): tf.NamedAttrMap {
  return { strides: [...g.strides], pad: tfPad(g), dataFormat: 'NHWC', dilations: [...g.dilations] };
}

/** Registers `name` on `backend` as a delegate of that backend's kernel `base`. */
function registerDelegate(name: string, backend: string, base: string, mapAttrs: (a: tf.NamedAttrMap) => tf.NamedAttrMap, mapInputs: (i: tf.NamedTensorInfoMap) => tf.NamedTensorInfoMap): void {
  if (tf.getKernel(name, backend)) return;
  tf.registerKernel({
    kernelName: name,
    backendName: backend,
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const k = tf.getKernel(base, backend);
      if (!k) throw new Error(`tfjs backend '${backend}' has no ${base} kernel`);
      return k.kernelFunc({ inputs: mapInputs(inputs), backend: b, attrs: mapAttrs(attrs ?? {}) });
    },
  });
}

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  if (!tf.getGradient(CONV)) {
    tf.registerGradient({
      kernelName: CONV,
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [T4, T4];
        const g = fromAttrs(attrs);
        return {
          x: () => conv2dInputGrad(dy as T4, filter, x.shape, g),
          filter: () => conv2dFilterGrad(x, dy as T4, filter.shape, g),
        };
      },
    });
  }
  if (!tf.getGradient(DEPTHWISE)) {
    tf.registerGradient({
      kernelName: DEPTHWISE,
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [T4, T4];
        const g = fromAttrs(attrs);
        return {
          x: () => depthwiseInputGrad(dy as T4, filter, x.shape, g),
          filter: () => depthwiseFilterGrad(x, dy as T4, filter.shape, g),
        };
      },
    });
  }
  if (!tf.getGradient(TRANSPOSE)) {
    // out = convT(x, W) is the input-gradient of a convolution whose output is x, so
    // d/dx = conv(dOut, W) and d/dW = filter-gradient of that convolution with dy = x.
    tf.registerGradient({
      kernelName: TRANSPOSE,
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [T4, T4];
        const g = fromAttrs(attrs);
        return {
          x: () => tf.conv2d(dy as T4, filter, [g.strides[0], g.strides[1]], tfPad(g), 'NHWC', [g.dilations[0], g.dilations[1]]),
          filter: () => conv2dFilterGrad(dy as T4, x, filter.shape, g),
        };
      },
    });
  }
}

function ensureRegistered(): void {
  registerGradients();
  const backend = tf.getBackend();
  registerDelegate(CONV, backend, 'Conv2D', (a) => nativeConvAttrs(fromAttrs(a)), (i) => i);
  registerDelegate(DEPTHWISE, backend, 'DepthwiseConv2dNative', (a) => nativeConvAttrs(fromAttrs(a)), (i) => i);
  registerDelegate(TRANSPOSE, backend, 'Conv2DBackpropInput', (a) => {
    const g = fromAttrs(a);
    return { ...nativeConvAttrs(g), inputShape: a.outputShape as number[] };
  }, (i) => ({ dy: i.x, filter: i.filter }));
}

function checkGeometry(what: string, g: ConvGeometry): void {
  if ([...g.strides, ...g.dilations].some((v) => !(Number.isInteger(v) && v >= 1)) || g.pads.some((p) => !(Number.isInteger(p) && p >= 0))) {
    throw new Error(`${what}: strides and dilations must be integers ≥ 1 and pads integers ≥ 0`);
  }
  if ((g.strides[0] > 1 || g.strides[1] > 1) && (g.dilations[0] > 1 || g.dilations[1] > 1)) {
    // The backends' forward kernels accept one or the other (as tf.conv2d does).
    throw new Error(`${what}: stride and dilation cannot both exceed 1`);
  }
}

/** Dense convolution, NHWC input and HWIO filter, differentiable on every backend. */
export function trainConv2d(x: T4, filter: T4, g: ConvGeometry): T4 {
  checkGeometry('conv2d', g);
  if (x.shape[3] !== filter.shape[2]) throw new Error(`conv2d: input has ${x.shape[3]} channels, filter expects ${filter.shape[2]}`);
  ensureRegistered();
  return tf.engine().runKernel(CONV, { x, filter }, { ...toAttrs(g) }) as T4;
}

/** Depthwise convolution (channel multiplier 1), NHWC input and [kh, kw, C, 1] filter, differentiable on every backend. */
export function trainDepthwiseConv2d(x: T4, filter: T4, g: ConvGeometry): T4 {
  checkGeometry('depthwiseConv2d', g);
  if (filter.shape[3] !== 1 || x.shape[3] !== filter.shape[2]) {
    throw new Error(`depthwiseConv2d: filter ${filter.shape} does not fit input channels ${x.shape[3]} with multiplier 1`);
  }
  ensureRegistered();
  return tf.engine().runKernel(DEPTHWISE, { x, filter }, { ...toAttrs(g) }) as T4;
}

/**
 * Transposed convolution without padding (PyTorch ConvTranspose2d with padding 0: output
 * (in − 1)·stride + kernel), NHWC input, filter [kh, kw, Cout, Cin], differentiable on every backend.
 */
export function trainConvTranspose2d(x: T4, filter: T4, strides: readonly [number, number]): T4 {
  const g: ConvGeometry = { strides: [strides[0], strides[1]], dilations: [1, 1], pads: [0, 0, 0, 0] };
  checkGeometry('convTranspose2d', g);
  const [n, h, w, cin] = x.shape;
  const [kh, kw, cout, fin] = filter.shape;
  if (cin !== fin) throw new Error(`convTranspose2d: input has ${cin} channels, filter expects ${fin}`);
  const outShape = [n, (h - 1) * strides[0] + kh, (w - 1) * strides[1] + kw, cout];
  // The forward conv of this geometry maps outShape back to x's size.
  if (outSize(outShape[1], kh, strides[0], 1, 0, 0) !== h || outSize(outShape[2], kw, strides[1], 1, 0, 0) !== w) {
    throw new Error('convTranspose2d: inconsistent geometry');
  }
  ensureRegistered();
  return tf.engine().runKernel(TRANSPOSE, { x, filter }, { ...toAttrs(g), outputShape: outShape }) as T4;
}
