/**
 * The functional op interface that all model code is written against. Two engines implement it:
 * TensorFlow.js (eager, NHWC inside) and ONNX (symbolic graph, NCHW inside). Feature maps are
 * opaque handles `T`: model code never sees their layout and never transposes by hand.
 *
 * Tensors come in two kinds: feature maps (batch, channels, height, width) and vectors
 * (batch, channels). "Channels" below always means the channel dimension, wherever the engine
 * keeps it.
 */
import type { ParamRef } from './params.js';

/** A pair of values for height and width, or one value for both. */
export type Pair = number | readonly [number, number];

export interface ConvOptions {
  stride?: Pair;
  /** Symmetric zero padding per side (PyTorch semantics). */
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: Pair;
  padding?: Pair;
}

export interface PoolOptions {
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export type ResizeMode = 'nearest' | 'bilinear';

/** Target of a resize: an explicit size, an integer scale factor, or the spatial size of another map. */
export type ResizeTarget<T> =
  | { size: readonly [number, number] }
  | { scale: number }
  | { like: T };

export type ReduceKind = 'mean' | 'sum' | 'max';

/** The ops model code may call. `T` is the engine's tensor handle. */
export interface Ops<T> {
  /** Which engine runs the ops. Model code must not branch on it; tasks and tests may. */
  readonly engine: 'tfjs' | 'ort' | 'shape';
  /** True while training: dropout and drop path are active, BatchNorm uses batch statistics. */
  readonly training: boolean;

  /**
   * Runs `fn` and returns its result; an eager engine frees every intermediate tensor `fn` made
   * (tensors a gradient needs are kept by the engine). Model code wraps each repeated unit (a
   * backbone block) in it, so peak memory is one unit's working set, not the whole network's.
   */
  scoped(fn: () => T): T;

  /** 2-D convolution; weight in PyTorch layout [out, in / groups, kh, kw]. */
  conv2d(x: T, weight: ParamRef, bias: ParamRef | null, opts?: ConvOptions): T;
  /** 2-D transposed convolution; weight in PyTorch layout [in, out, kh, kw]. */
  convTranspose2d(x: T, weight: ParamRef, bias: ParamRef | null, opts?: ConvTransposeOptions): T;
  /** Linear layer over the channel dimension; weight [out, in]. Works on feature maps and vectors. */
  linear(x: T, weight: ParamRef, bias: ParamRef | null): T;
  /** LayerNorm over the channel dimension, with affine weight and bias of shape [C]. */
  layerNorm(x: T, weight: ParamRef, bias: ParamRef, eps: number): T;
  /** BatchNorm with running statistics (eval) or batch statistics (training). */
  batchNorm(x: T, prefix: BatchNormParams, eps: number, momentum: number): T;

  gelu(x: T): T;
  relu(x: T): T;
  sigmoid(x: T): T;
  /** Softmax over the channel dimension. */
  softmax(x: T): T;

  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  /** Multiply by a per-channel parameter (shape [C] or any shape holding C values). */
  scale(x: T, p: ParamRef): T;
  /** Add a per-channel parameter (shape [C] or any shape holding C values). */
  shift(x: T, p: ParamRef): T;
  /** Add a scalar. */
  addScalar(x: T, s: number): T;
  /** Multiply by a scalar. */
  mulScalar(x: T, s: number): T;
  sqrt(x: T): T;
  square(x: T): T;

  /** Reduce over the spatial dimensions (H, W), keeping them as size 1. */
  reduceSpatial(x: T, kind: ReduceKind): T;
  /** Reduce over the channel dimension, keeping it as size 1. */
  reduceChannels(x: T, kind: ReduceKind): T;
  /** Global average pool of a feature map to a vector [N, C]. */
  globalAvgPool(x: T): T;

  concat(xs: readonly T[]): T;
  resize(x: T, target: ResizeTarget<T>, mode: ResizeMode, alignCorners?: boolean): T;
  maxPool(x: T, opts: PoolOptions): T;
  avgPool(x: T, opts: PoolOptions): T;
  /** Adaptive average pooling to `size` (PyTorch bins: floor(i*H/s) .. ceil((i+1)*H/s)); any input size. */
  adaptiveAvgPool(x: T, size: readonly [number, number]): T;

  /**
   * Optional fused op: conv2d(concat([xs[0], resize(xs[1]), …]), weight, bias, opts), where every
   * xs[i] after the first is first resized (bilinear, align_corners=False) to xs[0]'s spatial size
   * and `channels[i]` is xs[i]'s channel count. Convolution is linear, so an engine may apply each
   * map's share of the kernel at the map's own (lower) resolution, tap by tap, and resize the
   * results instead (UPerNet's fpn_bottleneck). Call it through `resizeConcatConv` in
   * src/core/fused.ts, which composes resize, concat and conv2d where an engine lacks it.
   */
  resizeConcatConv?(xs: readonly T[], channels: readonly number[], weight: ParamRef, bias: ParamRef | null, opts?: ConvOptions): T;

  /** Dropout (active only while training). */
  dropout(x: T, rate: number): T;
  /** Stochastic depth on a residual branch, per sample (active only while training). */
  dropPath(x: T, rate: number): T;
}

/** The four tensors of a BatchNorm layer (plus num_batches_tracked, which is not used). */
export interface BatchNormParams {
  weight: ParamRef;
  bias: ParamRef;
  runningMean: ParamRef;
  runningVar: ParamRef;
}

/** A pooling stride: the kernel size per axis when not given (PyTorch's default). */
export function poolStride(o: PoolOptions): [number, number] {
  return o.stride === undefined ? pair(o.kernel, 1) : pair(o.stride, 1);
}

/** Normalises a Pair to [h, w]. */
export function pair(p: Pair | undefined, dflt: number): [number, number] {
  if (p === undefined) return [dflt, dflt];
  return typeof p === 'number' ? [p, p] : [p[0], p[1]];
}
