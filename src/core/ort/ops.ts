/**
 * The ONNX engine: the same op interface, run symbolically. Each call appends ONNX nodes (NCHW
 * feature maps, [N, C] vectors) to a GraphBuilder; parameters become initializers under their
 * PyTorch names. Linear layers on feature maps become 1×1 convolutions, so no transposes appear.
 */
import type {
  BatchNormParams, ConvOptions, ConvTransposeOptions, Ops, PoolOptions, ReduceKind, ResizeMode, ResizeTarget,
} from '../ops.js';
import { pair } from '../ops.js';
import type { ParamRef } from '../params.js';
import type { WeightMap } from '../weights.js';
import { type GraphBuilder, type Sym } from './graph.js';

export class OrtOps implements Ops<Sym> {
  readonly engine = 'ort' as const;
  readonly training = false;

  constructor(
    readonly g: GraphBuilder,
    private readonly weights: WeightMap,
  ) {}

  /** The initializer of a parameter in PyTorch layout, optionally reshaped. */
  private param(ref: ParamRef, dims?: readonly number[], tag = ''): string {
    const t = this.weights.get(ref.name);
    if (!t) throw new Error(`ort engine: parameter ${ref.name} has no value`);
    const name = tag ? `${ref.name}::${tag}` : ref.name;
    return this.g.floatInit(name, dims ?? t.shape, t.data);
  }

  /** A per-channel parameter shaped to broadcast against a tensor of `rank`. */
  private chan(ref: ParamRef, rank: number): string {
    const c = ref.shape.reduce((a, b) => a * b, 1);
    return rank === 4 ? this.param(ref, [1, c, 1, 1], 'nchw') : this.param(ref, [1, c], 'nc');
  }

  private like(x: Sym, id: string): Sym {
    return { id, rank: x.rank };
  }

  conv2d(x: Sym, weight: ParamRef, bias: ParamRef | null, opts: ConvOptions = {}): Sym {
    const [ph, pw] = pair(opts.padding, 0);
    const ins = [x.id, this.param(weight)];
    if (bias) ins.push(this.param(bias));
    return this.like(x, this.g.op('Conv', ins, {
      kernel_shape: [weight.shape[2], weight.shape[3]],
      strides: [...pair(opts.stride, 1)],
      dilations: [...pair(opts.dilation, 1)],
      pads: [ph, pw, ph, pw],
      group: opts.groups ?? 1,
    }));
  }

  convTranspose2d(x: Sym, weight: ParamRef, bias: ParamRef | null, opts: ConvTransposeOptions = {}): Sym {
    const [ph, pw] = pair(opts.padding, 0);
    const ins = [x.id, this.param(weight)];
    if (bias) ins.push(this.param(bias));
    return this.like(x, this.g.op('ConvTranspose', ins, {
      kernel_shape: [weight.shape[2], weight.shape[3]],
      strides: [...pair(opts.stride, 1)],
      pads: [ph, pw, ph, pw],
    }));
  }

  linear(x: Sym, weight: ParamRef, bias: ParamRef | null): Sym {
    const [outC, inC] = weight.shape;
    if (x.rank === 2) {
      const ins = [x.id, this.param(weight)];
      if (bias) ins.push(this.param(bias));
      return this.like(x, this.g.op('Gemm', ins, { transB: 1 }));
    }
    const ins = [x.id, this.param(weight, [outC, inC, 1, 1], '1x1')];
    if (bias) ins.push(this.param(bias));
    return this.like(x, this.g.op('Conv', ins, { kernel_shape: [1, 1] }));
  }

  layerNorm(x: Sym, weight: ParamRef, bias: ParamRef, eps: number): Sym {
    if (x.rank === 2) {
      return this.like(x, this.g.op('LayerNormalization', [x.id, this.param(weight), this.param(bias)], { axis: -1, epsilon: { float: eps } }));
    }
    const g = this.g;
    const mean = g.op('ReduceMean', [x.id], { axes: [1], keepdims: 1 });
    const d = g.op('Sub', [x.id, mean]);
    const v = g.op('ReduceMean', [g.op('Mul', [d, d])], { axes: [1], keepdims: 1 });
    const y = g.op('Div', [d, g.op('Sqrt', [g.op('Add', [v, g.constFloat([eps], [])])])]);
    return this.like(x, g.op('Add', [g.op('Mul', [y, this.chan(weight, 4)]), this.chan(bias, 4)]));
  }

  batchNorm(x: Sym, p: BatchNormParams, eps: number): Sym {
    const ins = [x.id, this.param(p.weight), this.param(p.bias), this.param(p.runningMean), this.param(p.runningVar)];
    return this.like(x, this.g.op('BatchNormalization', ins, { epsilon: { float: eps } }));
  }

  gelu(x: Sym): Sym {
    // 0.5 · x · (1 + erf(x / √2)): the pattern onnxruntime fuses into one Gelu kernel.
    const g = this.g;
    const e = g.op('Erf', [g.op('Div', [x.id, g.constFloat([Math.SQRT2], [])])]);
    const y = g.op('Mul', [x.id, g.op('Add', [e, g.constFloat([1], [])])]);
    return this.like(x, g.op('Mul', [y, g.constFloat([0.5], [])]));
  }

  relu(x: Sym): Sym {
    return this.like(x, this.g.op('Relu', [x.id]));
  }

  sigmoid(x: Sym): Sym {
    return this.like(x, this.g.op('Sigmoid', [x.id]));
  }

  softmax(x: Sym): Sym {
    return this.like(x, this.g.op('Softmax', [x.id], { axis: 1 }));
  }

  private bin(op: string, a: Sym, b: Sym): Sym {
    return { id: this.g.op(op, [a.id, b.id]), rank: Math.max(a.rank, b.rank) };
  }

  add(a: Sym, b: Sym): Sym {
    return this.bin('Add', a, b);
  }

  sub(a: Sym, b: Sym): Sym {
    return this.bin('Sub', a, b);
  }

  mul(a: Sym, b: Sym): Sym {
    return this.bin('Mul', a, b);
  }

  div(a: Sym, b: Sym): Sym {
    return this.bin('Div', a, b);
  }

  scale(x: Sym, p: ParamRef): Sym {
    return this.like(x, this.g.op('Mul', [x.id, this.chan(p, x.rank)]));
  }

  shift(x: Sym, p: ParamRef): Sym {
    return this.like(x, this.g.op('Add', [x.id, this.chan(p, x.rank)]));
  }

  addScalar(x: Sym, s: number): Sym {
    return this.like(x, this.g.op('Add', [x.id, this.g.constFloat([s], [])]));
  }

  mulScalar(x: Sym, s: number): Sym {
    return this.like(x, this.g.op('Mul', [x.id, this.g.constFloat([s], [])]));
  }

  sqrt(x: Sym): Sym {
    return this.like(x, this.g.op('Sqrt', [x.id]));
  }

  square(x: Sym): Sym {
    return this.like(x, this.g.op('Mul', [x.id, x.id]));
  }

  private reduce(x: Sym, axes: number[], kind: ReduceKind): Sym {
    const op = kind === 'mean' ? 'ReduceMean' : kind === 'sum' ? 'ReduceSum' : 'ReduceMax';
    if (op === 'ReduceSum') {
      // ReduceSum takes its axes as an input from opset 13 on.
      return this.like(x, this.g.op(op, [x.id, this.g.constInt64(axes)], { keepdims: 1 }));
    }
    return this.like(x, this.g.op(op, [x.id], { axes, keepdims: 1 }));
  }

  reduceSpatial(x: Sym, kind: ReduceKind): Sym {
    return this.reduce(x, [2, 3], kind);
  }

  reduceChannels(x: Sym, kind: ReduceKind): Sym {
    return this.reduce(x, [1], kind);
  }

  globalAvgPool(x: Sym): Sym {
    return { id: this.g.op('Flatten', [this.g.op('GlobalAveragePool', [x.id])], { axis: 1 }), rank: 2 };
  }

  concat(xs: readonly Sym[]): Sym {
    return { id: this.g.op('Concat', xs.map((x) => x.id), { axis: 1 }), rank: xs[0].rank };
  }

  /** The int64 vector [N, C] of a feature map's shape. */
  private batchChannels(x: Sym): string {
    return this.g.op('Slice', [this.g.op('Shape', [x.id]), this.g.constInt64([0]), this.g.constInt64([2])]);
  }

  resize(x: Sym, target: ResizeTarget<Sym>, mode: ResizeMode, alignCorners = false): Sym {
    const g = this.g;
    const attrs: Record<string, string> = mode === 'bilinear'
      ? { mode: 'linear', coordinate_transformation_mode: alignCorners ? 'align_corners' : 'pytorch_half_pixel' }
      : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    const empty = g.constFloat([], [0]);
    if ('scale' in target) {
      return this.like(x, g.op('Resize', [x.id, empty, g.constFloat([1, 1, target.scale, target.scale])], attrs));
    }
    const hw = 'size' in target
      ? g.constInt64([target.size[0], target.size[1]])
      : g.op('Slice', [g.op('Shape', [target.like.id]), g.constInt64([2]), g.constInt64([4])]);
    const sizes = g.op('Concat', [this.batchChannels(x), hw], { axis: 0 });
    return this.like(x, g.op('Resize', [x.id, empty, empty, sizes], attrs));
  }

  private pool(op: string, x: Sym, o: PoolOptions): Sym {
    const k = pair(o.kernel, 1);
    const [ph, pw] = pair(o.padding, 0);
    const attrs: Record<string, number | number[]> = {
      kernel_shape: [...k],
      strides: [...pair(o.stride, k[0])],
      pads: [ph, pw, ph, pw],
      ceil_mode: o.ceilMode ? 1 : 0,
    };
    if (op === 'AveragePool') attrs.count_include_pad = 1;
    return this.like(x, this.g.op(op, [x.id], attrs));
  }

  maxPool(x: Sym, o: PoolOptions): Sym {
    return this.pool('MaxPool', x, o);
  }

  avgPool(x: Sym, o: PoolOptions): Sym {
    return this.pool('AveragePool', x, o);
  }

  /**
   * Adaptive average pooling for any (dynamic) input size: separable, one axis at a time; bin i
   * spans [floor(i·L/s), ceil((i+1)·L/s)), computed in the graph from the runtime length L.
   */
  adaptiveAvgPool(x: Sym, size: readonly [number, number]): Sym {
    let y = x.id;
    for (const [axis, s] of [[2, size[0]], [3, size[1]]] as const) y = this.adaptiveAxis(y, axis, s);
    return this.like(x, y);
  }

  private adaptiveAxis(x: string, axis: number, s: number): string {
    const g = this.g;
    if (s === 1) return g.op('ReduceMean', [x], { axes: [axis], keepdims: 1 });
    const len = g.op('Slice', [g.op('Shape', [x]), g.constInt64([axis]), g.constInt64([axis + 1])]);
    const parts: string[] = [];
    const axes = g.constInt64([axis]);
    for (let i = 0; i < s; i++) {
      const start = g.op('Div', [g.op('Mul', [len, g.constInt64([i])]), g.constInt64([s])]);
      const end = g.op('Div', [g.op('Add', [g.op('Mul', [len, g.constInt64([i + 1])]), g.constInt64([s - 1])]), g.constInt64([s])]);
      parts.push(g.op('ReduceMean', [g.op('Slice', [x, start, end, axes])], { axes: [axis], keepdims: 1 }));
    }
    return g.op('Concat', parts, { axis });
  }

  dropout(x: Sym): Sym {
    return x;
  }

  dropPath(x: Sym): Sym {
    return x;
  }
}
