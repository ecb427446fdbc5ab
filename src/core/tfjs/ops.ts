/**
 * The TensorFlow.js engine: eager ops on NHWC feature maps and [N, C] vectors, differentiable.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  BatchNormParams, ConvOptions, ConvTransposeOptions, Ops, PoolOptions, ReduceKind, ResizeMode, ResizeTarget,
} from '../ops.js';
import { pair, poolStride } from '../ops.js';
import type { ParamRef } from '../params.js';
import type { TfjsParams } from './params.js';
import { adaptiveBins } from '../adaptive.js';
import { geometry, trainConv2d, trainConvTranspose2d, trainDepthwiseConv2d } from './grad/index.js';

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(p: [number, number]): Pad4 | 'valid' {
  return p[0] === 0 && p[1] === 0 ? 'valid' : [[0, 0], [p[0], p[0]], [p[1], p[1]], [0, 0]];
}

/** The op interface on eager TensorFlow.js tensors (NHWC feature maps, [N, C] vectors); differentiable. */
export class TfjsOps implements Ops<tf.Tensor> {
  readonly engine = 'tfjs' as const;

  constructor(
    readonly params: TfjsParams,
    readonly training = false,
    private readonly random: () => number = Math.random,
  ) {}

  private p(ref: ParamRef): tf.Tensor {
    return this.params.get(ref);
  }

  /** A per-channel parameter as a flat [C] tensor. */
  private vec(ref: ParamRef): tf.Tensor {
    return this.params.view(ref, 'vec', this.training, (v) => tf.reshape(v, [-1]));
  }

  scoped(fn: () => tf.Tensor): tf.Tensor {
    return tf.tidy(fn);
  }

  conv2d(x: tf.Tensor, weight: ParamRef, bias: ParamRef | null, opts: ConvOptions = {}): tf.Tensor {
    const [outC, inPerGroup] = weight.shape;
    const groups = opts.groups ?? 1;
    const stride = pair(opts.stride, 1);
    const dil = pair(opts.dilation, 1);
    const padding = pair(opts.padding, 0);
    const pad = explicitPad(padding);
    const x4 = x as tf.Tensor4D;
    // Training routes through convolutions whose gradients every backend can compute (wasm included).
    const geo = this.training ? geometry(stride, padding, dil) : null;
    let y: tf.Tensor4D;
    if (groups === 1) {
      const w = this.params.view(weight, 'hwio', this.training, (v) => tf.transpose(v, [2, 3, 1, 0])) as tf.Tensor4D;
      y = geo ? trainConv2d(x4, w, geo) : tf.conv2d(x4, w, stride, pad, 'NHWC', dil);
    } else if (inPerGroup === 1 && outC === groups) {
      const w = this.params.view(weight, 'hwc1', this.training, (v) => tf.transpose(v, [2, 3, 0, 1])) as tf.Tensor4D;
      y = geo ? trainDepthwiseConv2d(x4, w, geo) : tf.depthwiseConv2d(x4, w, stride, pad, 'NHWC', dil);
    } else {
      const w = this.params.view(weight, 'hwio', this.training, (v) => tf.transpose(v, [2, 3, 1, 0])) as tf.Tensor4D;
      const xs = tf.split(x4, groups, 3) as tf.Tensor4D[];
      const ws = tf.split(w, groups, 3) as tf.Tensor4D[];
      y = tf.concat(xs.map((xi, i) => (geo ? trainConv2d(xi, ws[i], geo) : tf.conv2d(xi, ws[i], stride, pad, 'NHWC', dil))), 3) as tf.Tensor4D;
    }
    return bias ? tf.add(y, this.vec(bias)) : y;
  }

  convTranspose2d(x: tf.Tensor, weight: ParamRef, bias: ParamRef | null, opts: ConvTransposeOptions = {}): tf.Tensor {
    const [, outC, kh, kw] = weight.shape;
    const [sh, sw] = pair(opts.stride, 1);
    const [ph, pw] = pair(opts.padding, 0);
    const [n, h, w] = x.shape as number[];
    // PyTorch: out = (in - 1) * stride - 2 * pad + kernel. tfjs takes the filter as [kh, kw, out, in].
    const filt = this.params.view(weight, 'hwoi', this.training, (v) => tf.transpose(v, [2, 3, 1, 0])) as tf.Tensor4D;
    const full = this.training
      ? trainConvTranspose2d(x as tf.Tensor4D, filt, [sh, sw])
      : tf.conv2dTranspose(x as tf.Tensor4D, filt, [n, (h - 1) * sh + kh, (w - 1) * sw + kw, outC], [sh, sw], 'valid');
    const y = ph || pw ? tf.slice(full, [0, ph, pw, 0], [-1, full.shape[1] - 2 * ph, full.shape[2] - 2 * pw, -1]) : full;
    return bias ? tf.add(y, this.vec(bias)) : y;
  }

  linear(x: tf.Tensor, weight: ParamRef, bias: ParamRef | null): tf.Tensor {
    // Weights pre-transposed to [in, out]: wasm's matMul with transposeB is several times slower.
    const wt = this.params.view(weight, 'io', this.training, (v) => tf.transpose(v)) as tf.Tensor2D;
    const flat = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D);
    const y = tf.fused.matMul({ a: flat, b: wt, bias: bias ? this.vec(bias) : undefined });
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
  }

  layerNorm(x: tf.Tensor, weight: ParamRef, bias: ParamRef, eps: number): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(y, this.vec(weight)), this.vec(bias));
  }

  batchNorm(x: tf.Tensor, p: BatchNormParams, eps: number, momentum: number): tf.Tensor {
    if (!this.training) {
      return tf.batchNorm(x, this.vec(p.runningMean), this.vec(p.runningVar), this.vec(p.bias), this.vec(p.weight), eps);
    }
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    const count = x.size / x.shape[x.rank - 1];
    // Running statistics follow PyTorch: unbiased variance, exponential average with `momentum`.
    tf.tidy(() => {
      const rm = this.p(p.runningMean) as tf.Variable;
      const rv = this.p(p.runningVar) as tf.Variable;
      const v = tf.mul(variance, count / Math.max(count - 1, 1));
      rm.assign(tf.add(tf.mul(rm, 1 - momentum), tf.mul(tf.reshape(mean, rm.shape), momentum)));
      rv.assign(tf.add(tf.mul(rv, 1 - momentum), tf.mul(tf.reshape(v, rv.shape), momentum)));
    });
    // Written out rather than tf.batchNorm: the gradient of FusedBatchNorm tiles per-channel
    // vectors to the full tensor, which is slow on wasm; broadcasting ops reduce instead.
    const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), this.vec(p.weight));
    return tf.add(tf.mul(tf.sub(x, mean), scale), this.vec(p.bias));
  }

  gelu(x: tf.Tensor): tf.Tensor {
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  }

  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  sigmoid(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }

  softmax(x: tf.Tensor): tf.Tensor {
    return tf.softmax(x, -1);
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }

  sub(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.sub(a, b);
  }

  mul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.mul(a, b);
  }

  div(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.div(a, b);
  }

  scale(x: tf.Tensor, p: ParamRef): tf.Tensor {
    return tf.mul(x, this.vec(p));
  }

  shift(x: tf.Tensor, p: ParamRef): tf.Tensor {
    return tf.add(x, this.vec(p));
  }

  addScalar(x: tf.Tensor, s: number): tf.Tensor {
    return tf.add(x, s);
  }

  mulScalar(x: tf.Tensor, s: number): tf.Tensor {
    return tf.mul(x, s);
  }

  sqrt(x: tf.Tensor): tf.Tensor {
    return tf.sqrt(x);
  }

  square(x: tf.Tensor): tf.Tensor {
    return tf.square(x);
  }

  private reduce(x: tf.Tensor, axes: number[], kind: ReduceKind): tf.Tensor {
    if (kind === 'mean') return tf.mean(x, axes, true);
    if (kind === 'sum') return tf.sum(x, axes, true);
    return tf.max(x, axes, true);
  }

  reduceSpatial(x: tf.Tensor, kind: ReduceKind): tf.Tensor {
    return this.reduce(x, [1, 2], kind);
  }

  reduceChannels(x: tf.Tensor, kind: ReduceKind): tf.Tensor {
    return this.reduce(x, [x.rank - 1], kind);
  }

  globalAvgPool(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }

  concat(xs: readonly tf.Tensor[]): tf.Tensor {
    return tf.concat([...xs], -1);
  }

  resize(x: tf.Tensor, target: ResizeTarget<tf.Tensor>, mode: ResizeMode, alignCorners = false): tf.Tensor {
    const [, h, w] = x.shape as number[];
    let size: [number, number];
    if ('size' in target) size = [target.size[0], target.size[1]];
    else if ('scale' in target) size = [Math.floor(h * target.scale), Math.floor(w * target.scale)];
    else size = [(target.like.shape as number[])[1], (target.like.shape as number[])[2]];
    if (size[0] === h && size[1] === w) return x;
    const x4 = x as tf.Tensor4D;
    if (mode === 'bilinear') return tf.image.resizeBilinear(x4, size, alignCorners, !alignCorners);
    // PyTorch 'nearest': source index floor(dst * in / out).
    return tf.image.resizeNearestNeighbor(x4, size, alignCorners, false);
  }

  maxPool(x: tf.Tensor, o: PoolOptions): tf.Tensor {
    return this.pool(x, o, 'max');
  }

  avgPool(x: tf.Tensor, o: PoolOptions): tf.Tensor {
    return this.pool(x, o, 'avg');
  }

  private pool(x: tf.Tensor, o: PoolOptions, kind: 'max' | 'avg'): tf.Tensor {
    const k = pair(o.kernel, 1);
    const s = poolStride(o);
    const [ph, pw] = pair(o.padding, 0);
    if (o.ceilMode) throw new Error('tfjs engine: ceilMode pooling is not supported');
    let x4 = x as tf.Tensor4D;
    if (ph || pw) {
      const fill = kind === 'max' ? -Infinity : 0;
      x4 = tf.pad(x4, [[0, 0], [ph, ph], [pw, pw], [0, 0]], fill);
    }
    // PyTorch's avg_pool2d counts padded zeros (count_include_pad=True), as padding explicitly does.
    return kind === 'max' ? tf.maxPool(x4, k, s, 'valid') : tf.avgPool(x4, k, s, 'valid');
  }

  adaptiveAvgPool(x: tf.Tensor, size: readonly [number, number]): tf.Tensor {
    const [, h, w] = x.shape as number[];
    const rows = adaptiveBins(h, size[0]).map(([a, b]) => tf.mean(tf.slice(x, [0, a, 0, 0], [-1, b - a, -1, -1]), 1, true));
    const byRow = tf.concat(rows, 1);
    const cols = adaptiveBins(w, size[1]).map(([a, b]) => tf.mean(tf.slice(byRow, [0, 0, a, 0], [-1, -1, b - a, -1]), 2, true));
    return tf.concat(cols, 2);
  }

  dropout(x: tf.Tensor, rate: number): tf.Tensor {
    if (!this.training || rate <= 0) return x;
    return tf.dropout(x, rate, undefined, Math.floor(this.random() * 2 ** 31));
  }

  dropPath(x: tf.Tensor, rate: number): tf.Tensor {
    if (!this.training || rate <= 0) return x;
    const keep = 1 - rate;
    const n = x.shape[0];
    const mask = Array.from({ length: n }, () => (this.random() < keep ? 1 / keep : 0));
    const shape = [n, ...new Array<number>(x.rank - 1).fill(1)];
    return tf.mul(x, tf.tensor(mask, shape));
  }
}
