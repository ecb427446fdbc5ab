/**
 * The ONNX engine: the same op interface, run symbolically. Each call appends ONNX nodes (NCHW
 * feature maps, [N, C] vectors) to a GraphBuilder; parameters become initializers under their
 * PyTorch names. Linear layers on feature maps become 1×1 convolutions. A channel LayerNorm runs
 * as onnxruntime's LayerNormalization between a pair of transposes, which onnxruntime's NCHWc
 * pass turns into channels-last reorders; its affine is folded into the next convolution.
 */
import type {
  BatchNormParams, ConvOptions, ConvTransposeOptions, Ops, PoolOptions, ReduceKind, ResizeMode, ResizeTarget,
} from '../ops.js';
import { pair, poolStride } from '../ops.js';
import type { ParamRef } from '../params.js';
import type { WeightMap } from '../weights.js';
import { type GraphBuilder, type Sym } from './graph.js';
import { resizeConcatConvGraph } from './resize-concat-conv.js';
import { broadcastDims, type Dim, equalSymbolic, scaledOut, transposedOut, windowOut } from './sym-dims.js';

/** Graph-shape choices of the ONNX engine. */
export interface OrtOpsOptions {
  /**
   * How a linear layer on a feature map is built: 'conv' (default) a 1×1 convolution (onnxruntime
   * runs it in its blocked NCHWc layout); 'matmul' a MatMul on the channels-last view between
   * transposes, which onnxruntime's transpose optimizer cancels against the LayerNorm's. The
   * int8 quantizer builds 'matmul': a quantized MatMul returns float (no dequantize node).
   */
  pointwise?: 'conv' | 'matmul';
}

/** A LayerNorm's affine transform not yet applied to its normalised output. */
interface PendingAffine {
  weight: ParamRef;
  bias: ParamRef;
  /** The materialised value, once some op needed it. */
  applied?: string;
}

/** The op interface run symbolically: every call appends ONNX nodes (NCHW) to a GraphBuilder. */
export class OrtOps implements Ops<Sym> {
  readonly engine = 'ort' as const;
  readonly training = false;
  /**
   * LayerNorm outputs whose affine (weight, bias) is deferred: a following linear layer or
   * unpadded dense convolution folds it into its own weights (W·diag(w), W·b + b1); any other
   * consumer applies it first.
   */
  private readonly pending = new WeakMap<Sym, PendingAffine>();

  constructor(
    readonly g: GraphBuilder,
    protected readonly weights: WeightMap,
    protected readonly opts: OrtOpsOptions = {},
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

  /** The graph value of `x`, applying a deferred LayerNorm affine if there is one. */
  private id(x: Sym): string {
    const p = this.pending.get(x);
    if (!p) return x.id;
    if (p.applied) return p.applied;
    if (x.rank === 4) {
      // A depthwise 1×1 convolution: one pass, and onnxruntime keeps its output in NCHWc, so a
      // residual stream that starts here stays in that layout (its adds fuse into the convs).
      const c = p.weight.shape.reduce((a, b) => a * b, 1);
      p.applied = this.g.op('Conv', [x.id, this.param(p.weight, [c, 1, 1, 1], 'dw1x1'), this.param(p.bias, [c], 'dw1x1')], {
        kernel_shape: [1, 1], group: c,
      });
    } else {
      p.applied = this.g.op('Add', [this.g.op('Mul', [x.id, this.chan(p.weight, x.rank)]), this.chan(p.bias, x.rank)]);
    }
    return p.applied;
  }

  /** `x` with any deferred computation applied: what a graph output must reference. */
  materialize(x: Sym): Sym {
    return { id: this.id(x), rank: x.rank, dims: x.dims };
  }

  /** Host values of a parameter. */
  private host(ref: ParamRef): Float32Array {
    const t = this.weights.get(ref.name);
    if (!t) throw new Error(`ort engine: parameter ${ref.name} has no value`);
    return t.data;
  }

  /**
   * A dense conv weight (OIHW, or a linear [out, in] as 1×1) and bias with a deferred affine
   * (w, b) folded in: W[o, i, ·]·w[i], and b1[o] + Σ W[o, i, ·]·b[i]. Exact only where no output
   * reads zero padding, which the callers ensure.
   */
  private foldAffine(weight: ParamRef, bias: ParamRef | null, p: PendingAffine): [string, string] {
    const [Wf, bf] = this.foldedHost(weight, bias, p);
    const [outC, inC, kh = 1, kw = 1] = weight.shape;
    const tag = `${weight.name}::folded(${p.weight.name})`;
    return [this.g.floatInit(`${tag}.weight`, [outC, inC, kh, kw], Wf), this.g.floatInit(`${tag}.bias`, [outC], bf)];
  }

  /** The host values of {@link foldAffine}'s weight and bias. */
  private foldedHost(weight: ParamRef, bias: ParamRef | null, p: PendingAffine): [Float32Array, Float32Array] {
    const [outC, inC, kh = 1, kw = 1] = weight.shape;
    const k = kh * kw;
    const W = this.host(weight);
    const w = this.host(p.weight);
    const b = this.host(p.bias);
    const b1 = bias ? this.host(bias) : null;
    const Wf = new Float32Array(outC * inC * k);
    const bf = new Float32Array(outC);
    for (let o = 0; o < outC; o++) {
      let acc = b1 ? b1[o] : 0;
      if (k === 1) {
        // Pointwise (the common case: ConvNeXt's Linear layers): one weight per (o, i).
        for (let i = 0, j = o * inC; i < inC; i++, j++) {
          const v = W[j];
          Wf[j] = v * w[i];
          acc += v * b[i];
        }
      } else {
        for (let i = 0; i < inC; i++) {
          for (let j = (o * inC + i) * k, end = j + k; j < end; j++) {
            Wf[j] = W[j] * w[i];
            acc += W[j] * b[i];
          }
        }
      }
      bf[o] = acc;
    }
    return [Wf, bf];
  }

  /** A result of the same shape as `x`. */
  private like(x: Sym, id: string): Sym {
    return { id, rank: x.rank, dims: x.dims };
  }

  /** A feature map [N, channels, h, w] from `x`'s batch, where every part is stated. */
  private map(x: Sym, id: string, channels: Dim | undefined, h: Dim | undefined, w: Dim | undefined): Sym {
    const n = x.dims?.[0];
    const dims = n !== undefined && channels !== undefined && h !== undefined && w !== undefined ? [n, channels, h, w] : undefined;
    return { id, rank: 4, dims };
  }

  /** `x`'s height and width mapped by `f` (axis 0: height, 1: width), where stated. */
  private spatial(x: Sym, f: (d: Dim, axis: 0 | 1) => Dim | undefined): [Dim | undefined, Dim | undefined] {
    const at = (axis: 0 | 1) => {
      const d = x.dims?.[2 + axis];
      return d === undefined ? undefined : f(d, axis);
    };
    return [at(0), at(1)];
  }

  /** `x`'s spatial dims through a window op (conv/pool). */
  private windowed(x: Sym, k: readonly number[], s: readonly number[], p: readonly number[], d: readonly number[], ceil = false): [Dim | undefined, Dim | undefined] {
    return this.spatial(x, (v, i) => windowOut(v, k[i], s[i], p[i], d[i], ceil));
  }

  /**
   * Inputs [x, W, b] of a dense convolution (`as1x1`: a linear layer's [out, in] weight), with a
   * pending LayerNorm affine on x folded into W and b where `foldable`.
   */
  private denseInputs(x: Sym, weight: ParamRef, bias: ParamRef | null, foldable: boolean, as1x1 = false): string[] {
    const p = this.pending.get(x);
    if (p && !p.applied && foldable) return [x.id, ...this.foldAffine(weight, bias, p)];
    const ins = [this.id(x), as1x1 ? this.param(weight, [weight.shape[0], weight.shape[1], 1, 1], '1x1') : this.param(weight)];
    if (bias) ins.push(this.param(bias));
    return ins;
  }

  scoped(fn: () => Sym): Sym {
    return fn();
  }

  conv2d(x: Sym, weight: ParamRef, bias: ParamRef | null, opts: ConvOptions = {}): Sym {
    const [ph, pw] = pair(opts.padding, 0);
    const ins = this.denseInputs(x, weight, bias, ph === 0 && pw === 0 && (opts.groups ?? 1) === 1);
    const k = [weight.shape[2], weight.shape[3]];
    const strides = pair(opts.stride, 1);
    const dilations = pair(opts.dilation, 1);
    const id = this.g.op('Conv', ins, { kernel_shape: k, strides: [...strides], dilations: [...dilations], pads: [ph, pw, ph, pw], group: opts.groups ?? 1 });
    return this.map(x, id, weight.shape[0], ...this.windowed(x, k, strides, [ph, pw], dilations));
  }

  convTranspose2d(x: Sym, weight: ParamRef, bias: ParamRef | null, opts: ConvTransposeOptions = {}): Sym {
    const [ph, pw] = pair(opts.padding, 0);
    const ins = [this.id(x), this.param(weight)];
    if (bias) ins.push(this.param(bias));
    const [kh, kw] = [weight.shape[2], weight.shape[3]];
    const [sh, sw] = pair(opts.stride, 1);
    const id = this.g.op('ConvTranspose', ins, { kernel_shape: [kh, kw], strides: [sh, sw], pads: [ph, pw, ph, pw] });
    return this.map(x, id, weight.shape[1], ...this.spatial(x, (d, i) => transposedOut(d, [kh, kw][i], [sh, sw][i], [ph, pw][i])));
  }

  linear(x: Sym, weight: ParamRef, bias: ParamRef | null): Sym {
    const outC = weight.shape[0];
    if (x.rank === 2) {
      const n = x.dims?.[0];
      return { id: this.g.op('Gemm', this.denseInputs(x, weight, bias, false), { transB: 1 }), rank: 2, dims: n === undefined ? undefined : [n, outC] };
    }
    if (this.opts.pointwise === 'matmul') return this.map(x, this.pointwiseMatMul(x, weight, bias), outC, x.dims?.[2], x.dims?.[3]);
    const ins = this.denseInputs(x, weight, bias, true, true);
    return this.map(x, this.g.op('Conv', ins, { kernel_shape: [1, 1] }), outC, x.dims?.[2], x.dims?.[3]);
  }

  /** A linear layer on a feature map as NHWC MatMul (weight [in, out]) + bias, between transposes. */
  private pointwiseMatMul(x: Sym, weight: ParamRef, bias: ParamRef | null): string {
    const g = this.g;
    const [outC, inC] = weight.shape;
    const p = this.pending.get(x);
    const folded = p && !p.applied;
    const [W, b] = folded ? this.foldedHost(weight, bias, p) : [this.host(weight), bias ? this.host(bias) : null];
    const Wt = new Float32Array(inC * outC);
    for (let o = 0; o < outC; o++) for (let i = 0; i < inC; i++) Wt[i * outC + o] = W[o * inC + i];
    const tag = folded ? `${weight.name}::folded(${p.weight.name})` : weight.name;
    const nhwc = g.op('Transpose', [folded ? x.id : this.id(x)], { perm: [0, 2, 3, 1] });
    let y = g.op('MatMul', [nhwc, g.floatInit(`${tag}::matmul.weight`, [inC, outC], Wt)]);
    if (b) y = g.op('Add', [y, g.floatInit(`${tag}::matmul.bias`, [outC], b)]);
    return g.op('Transpose', [y], { perm: [0, 3, 1, 2] });
  }

  layerNorm(x: Sym, weight: ParamRef, bias: ParamRef, eps: number): Sym {
    if (x.rank === 2) {
      return this.like(x, this.g.op('LayerNormalization', [this.id(x), this.param(weight), this.param(bias)], { axis: -1, epsilon: { float: eps } }));
    }
    // NCHW → NHWC, LayerNormalization over the last axis with unit scale, NHWC → NCHW: after an
    // NCHWc conv onnxruntime turns the transposes into channels-last reorders around its native
    // kernel (mean and E[x²] − mean² in float32, as in any PyTorch LayerNorm export). The affine
    // is deferred (see `pending`).
    const g = this.g;
    const c = weight.shape.reduce((a, b) => a * b, 1);
    const nhwc = g.op('Transpose', [this.id(x)], { perm: [0, 2, 3, 1] });
    const n = g.op('LayerNormalization', [nhwc, g.constFloat(new Array<number>(c).fill(1), [c])], { axis: -1, epsilon: { float: eps } });
    const y = this.like(x, g.op('Transpose', [n], { perm: [0, 3, 1, 2] }));
    this.pending.set(y, { weight, bias });
    return y;
  }

  batchNorm(x: Sym, p: BatchNormParams, eps: number): Sym {
    const ins = [this.id(x), this.param(p.weight), this.param(p.bias), this.param(p.runningMean), this.param(p.runningVar)];
    return this.like(x, this.g.op('BatchNormalization', ins, { epsilon: { float: eps } }));
  }

  gelu(x: Sym): Sym {
    // 0.5 · x · (1 + erf(x / √2)): the pattern onnxruntime fuses into one Gelu kernel.
    const g = this.g;
    const e = g.op('Erf', [g.op('Div', [this.id(x), g.constFloat([Math.SQRT2], [])])]);
    const y = g.op('Mul', [this.id(x), g.op('Add', [e, g.constFloat([1], [])])]);
    return this.like(x, g.op('Mul', [y, g.constFloat([0.5], [])]));
  }

  relu(x: Sym): Sym {
    return this.like(x, this.g.op('Relu', [this.id(x)]));
  }

  sigmoid(x: Sym): Sym {
    return this.like(x, this.g.op('Sigmoid', [this.id(x)]));
  }

  softmax(x: Sym): Sym {
    return this.like(x, this.g.op('Softmax', [this.id(x)], { axis: 1 }));
  }

  /**
   * An elementwise op. Where both inputs provably share a dynamic shape, the three values are
   * annotated with it, so onnxruntime can keep them in its blocked layout and fuse a residual add
   * into the convolution that produced one input.
   */
  private bin(op: string, a: Sym, b: Sym): Sym {
    const [ia, ib] = [this.id(a), this.id(b)];
    const id = this.g.op(op, [ia, ib]);
    if (equalSymbolic(a.dims, b.dims)) for (const v of [ia, ib, id]) this.g.annotate(v, a.dims);
    return { id, rank: Math.max(a.rank, b.rank), dims: broadcastDims(a.dims, b.dims) };
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
    return this.like(x, this.g.op('Mul', [this.id(x), this.chan(p, x.rank)]));
  }

  shift(x: Sym, p: ParamRef): Sym {
    return this.like(x, this.g.op('Add', [this.id(x), this.chan(p, x.rank)]));
  }

  addScalar(x: Sym, s: number): Sym {
    return this.like(x, this.g.op('Add', [this.id(x), this.g.constFloat([s], [])]));
  }

  mulScalar(x: Sym, s: number): Sym {
    return this.like(x, this.g.op('Mul', [this.id(x), this.g.constFloat([s], [])]));
  }

  sqrt(x: Sym): Sym {
    return this.like(x, this.g.op('Sqrt', [this.id(x)]));
  }

  square(x: Sym): Sym {
    return this.like(x, this.g.op('Mul', [this.id(x), this.id(x)]));
  }

  private reduce(x: Sym, axes: number[], kind: ReduceKind): Sym {
    const op = kind === 'mean' ? 'ReduceMean' : kind === 'sum' ? 'ReduceSum' : 'ReduceMax';
    // ReduceSum takes its axes as an input from opset 13 on.
    const id = op === 'ReduceSum'
      ? this.g.op(op, [this.id(x), this.g.constInt64(axes)], { keepdims: 1 })
      : this.g.op(op, [this.id(x)], { axes, keepdims: 1 });
    return { id, rank: x.rank, dims: x.dims?.map((d, i) => (axes.includes(i) ? 1 : d)) };
  }

  reduceSpatial(x: Sym, kind: ReduceKind): Sym {
    return this.reduce(x, [2, 3], kind);
  }

  reduceChannels(x: Sym, kind: ReduceKind): Sym {
    return this.reduce(x, [1], kind);
  }

  globalAvgPool(x: Sym): Sym {
    const dims = x.dims ? x.dims.slice(0, 2) : undefined;
    return { id: this.g.op('Flatten', [this.g.op('GlobalAveragePool', [this.id(x)])], { axis: 1 }), rank: 2, dims };
  }

  concat(xs: readonly Sym[]): Sym {
    const id = this.g.op('Concat', xs.map((x) => this.id(x)), { axis: 1 });
    const [h, w] = [xs[0].dims?.[2], xs[0].dims?.[3]];
    const same = xs.every((x) => x.rank === 4 && x.dims?.[2] === h && x.dims?.[3] === w);
    const chans = xs.map((x) => x.dims?.[1]);
    const c = chans.every((v): v is number => typeof v === 'number') ? chans.reduce((a, b) => a + b, 0) : undefined;
    if (xs[0].rank !== 4) return { id, rank: xs[0].rank };
    return this.map(xs[0], id, c, same ? h : undefined, same ? w : undefined);
  }

  /** The int64 vector [N, C] of a feature map's shape. */
  private batchChannels(x: Sym): string {
    return this.g.op('Slice', [this.g.op('Shape', [this.id(x)]), this.g.constInt64([0]), this.g.constInt64([2])]);
  }

  resize(x: Sym, target: ResizeTarget<Sym>, mode: ResizeMode, alignCorners = false): Sym {
    const g = this.g;
    const attrs: Record<string, string> = mode === 'bilinear'
      ? { mode: 'linear', coordinate_transformation_mode: alignCorners ? 'align_corners' : 'pytorch_half_pixel' }
      : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    const empty = g.constFloat([], [0]);
    const c = x.dims?.[1];
    if ('scale' in target) {
      const id = g.op('Resize', [this.id(x), empty, g.constFloat([1, 1, target.scale, target.scale])], attrs);
      return this.map(x, id, c, ...this.spatial(x, (d) => scaledOut(d, target.scale)));
    }
    const hw = 'size' in target
      ? g.constInt64([target.size[0], target.size[1]])
      : g.op('Slice', [g.op('Shape', [this.id(target.like)]), g.constInt64([2]), g.constInt64([4])]);
    const sizes = g.op('Concat', [this.batchChannels(x), hw], { axis: 0 });
    const id = g.op('Resize', [this.id(x), empty, empty, sizes], attrs);
    const [h, w]: Array<Dim | undefined> = 'size' in target ? [...target.size] : [target.like.dims?.[2], target.like.dims?.[3]];
    return this.map(x, id, c, h, w);
  }

  private pool(op: string, x: Sym, o: PoolOptions): Sym {
    const k = pair(o.kernel, 1);
    const [ph, pw] = pair(o.padding, 0);
    const attrs: Record<string, number | number[]> = {
      kernel_shape: [...k],
      strides: [...poolStride(o)],
      pads: [ph, pw, ph, pw],
      ceil_mode: o.ceilMode ? 1 : 0,
    };
    if (op === 'AveragePool') attrs.count_include_pad = 1;
    const id = this.g.op(op, [this.id(x)], attrs);
    return this.map(x, id, x.dims?.[1], ...this.windowed(x, k, poolStride(o), [ph, pw], [1, 1], o.ceilMode));
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
    let y = this.id(x);
    for (const [axis, s] of [[2, size[0]], [3, size[1]]] as const) y = this.adaptiveAxis(y, axis, s);
    return this.map(x, y, x.dims?.[1], size[0], size[1]);
  }

  /**
   * conv2d of the concatenation of maps resized to xs[0]'s size, built without resizing the maps
   * (see resize-concat-conv.ts) when the conv is a plain odd square kernel with "same" padding.
   */
  resizeConcatConv(xs: readonly Sym[], channels: readonly number[], weight: ParamRef, bias: ParamRef | null, opts: ConvOptions = {}): Sym {
    const [, , kh, kw] = weight.shape;
    const [ph, pw] = pair(opts.padding, 0);
    const plain = kh === kw && kh % 2 === 1 && ph === (kh - 1) / 2 && pw === ph && (opts.groups ?? 1) === 1
      && pair(opts.stride, 1).every((v) => v === 1) && pair(opts.dilation, 1).every((v) => v === 1);
    if (!plain) {
      const up = xs.map((x, i) => (i === 0 ? x : this.resize(x, { like: xs[0] }, 'bilinear', false)));
      return this.conv2d(this.concat(up), weight, bias, opts);
    }
    const w = this.weights.get(weight.name);
    if (!w) throw new Error(`ort engine: parameter ${weight.name} has no value`);
    const id = resizeConcatConvGraph(this.g, {
      xs: xs.map((x) => this.id(x)), channels, weight: w, weightName: weight.name, bias: bias ? this.param(bias) : null,
    });
    return this.map(xs[0], id, weight.shape[0], xs[0].dims?.[2], xs[0].dims?.[3]);
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
