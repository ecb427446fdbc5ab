/**
 * Int8 rewrites of a float ONNX graph: which nodes quantize (Conv, Gemm, MatMul with constant
 * weights, less exclusions), static QuantizeLinear/DequantizeLinear placement (onnxruntime's QDQ
 * format, which its graph optimizer fuses into integer kernels) and dynamic quantization
 * (DynamicQuantizeLinear with ConvInteger/MatMulInteger). Everything else stays float.
 */
import {
  attr, attrInt, DT, makeTensor, type OnnxGraphObject, type OnnxModelObject, type OnnxNode, type OnnxTensor, tensorFloats,
} from './onnx-proto.js';
import { activationQParams, quantizeBias, quantizeWeight, type QuantizedWeight } from './ranges.js';

/** Which nodes a quantization covers. */
export interface QuantPlanOptions {
  /** Node or weight names matching one of these stay float. */
  exclude?: readonly RegExp[];
  /**
   * The mode planned for (default 'static'). Dynamic leaves float the grouped (depthwise)
   * convolutions, which ConvInteger runs slower than float, and the W · x MatMuls, whose dynamic
   * kernel would quantize the constant side.
   */
  mode?: 'static' | 'dynamic';
}

/** One node to quantize: its weight initializer and the weight's output-channel axis. */
export interface QuantTarget {
  node: OnnxNode;
  weight: OnnxTensor;
  /** The output-channel axis of the weight (Conv: 0; Gemm: 0 when transB, else 1; MatMul: 1). */
  axis: number;
  /** The bias initializer (Conv input 2, Gemm input C, or the vector a MatMul's sole reader adds). */
  bias: OnnxTensor | null;
  /** The Add node after a MatMul whose constant vector is the bias (absorbed into the integer op). */
  biasAdd?: OnnxNode;
  /** A MatMul whose constant is its first input (W · x): static mode only, one weight scale. */
  weightLeft?: boolean;
}

/** The activation input of a target. */
export function activationOf(t: QuantTarget): string {
  return t.weightLeft ? t.node.input[1] : t.node.input[0];
}

/** The nodes of a graph that quantize, and the float nodes left out by an exclusion. */
export interface QuantPlan {
  targets: QuantTarget[];
  /** Nodes `exclude` kept float, with their weight initializer's name. */
  excluded: Array<{ node: OnnxNode; weight: string }>;
  /** Activation tensors whose ranges a static quantization needs (targets' inputs and outputs). */
  activations: string[];
}

/**
 * Whether a target's output is quantized too: onnxruntime fuses Conv and Gemm into integer
 * kernels only with a quantized output (QLinearConv, QGemm); a MatMul becomes
 * MatMulIntegerToFloat, an integer product with float output and bias.
 */
function quantizedOutput(t: QuantTarget): boolean {
  return t.node.opType !== 'MatMul';
}

/** The name patterns tested for exclusion: the node's name and its weight's. */
function excludedBy(node: OnnxNode, weight: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((p) => p.test(weight) || (node.name !== undefined && p.test(node.name)));
}

/** The bias of a MatMul: its output's only reader is an Add of a constant vector [N]. */
function matMulBias(model: OnnxModelObject, node: OnnxNode, inits: ReadonlyMap<string, OnnxTensor>, n: number): Partial<Pick<QuantTarget, 'bias' | 'biasAdd'>> {
  const out = node.output[0];
  const readers = model.graph.node.filter((r) => r.input.includes(out));
  if (readers.length !== 1 || readers[0].opType !== 'Add' || model.graph.output.some((o) => o.name === out)) return {};
  const add = readers[0];
  const other = add.input[0] === out ? add.input[1] : add.input[0];
  const b = inits.get(other);
  return b && b.dataType === DT.FLOAT && b.dims.length === 1 && b.dims[0] === n ? { bias: b, biasAdd: add } : {};
}

/** Plans the quantization of `model`'s Conv, Gemm and MatMul nodes with float constant weights. */
export function planQuantization(model: OnnxModelObject, opts: QuantPlanOptions = {}): QuantPlan {
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const targets: QuantTarget[] = [];
  const excluded: QuantPlan['excluded'] = [];
  // Graph outputs, and the values an Identity passes to one (how the exporter names its outputs).
  const outputs = new Set(model.graph.output.map((o) => o.name));
  for (const n of model.graph.node) if (n.opType === 'Identity' && outputs.has(n.output[0])) outputs.add(n.input[0]);
  for (const node of model.graph.node) {
    if ((node.domain ?? '') !== '') continue;
    const left = inits.get(node.input[0]);
    if (node.opType === 'MatMul' && opts.mode !== 'dynamic' && left?.dataType === DT.FLOAT && left.dims.length === 2 && !inits.has(node.input[1])) {
      // W · x (the head's decomposed resize-and-convolve): the integer product with float output.
      if (excludedBy(node, left.name, opts.exclude ?? [])) excluded.push({ node, weight: left.name });
      else targets.push({ node, weight: left, axis: 0, bias: null, weightLeft: true });
      continue;
    }
    const w = inits.get(node.input[1]);
    if (!w || w.dataType !== DT.FLOAT) continue;
    let axis: number;
    let bias: OnnxTensor | null = null;
    const b = node.input[2] ? inits.get(node.input[2]) ?? null : null;
    if (node.opType === 'Conv') {
      if (w.dims.length !== 4 || (opts.mode === 'dynamic' && attrInt(node, 'group', 1) !== 1)) continue;
      axis = 0;
      bias = b && b.dims.length === 1 ? b : null;
      if (node.input[2] && !bias) continue;
    } else if (node.opType === 'Gemm') {
      if (attrInt(node, 'transA', 0) !== 0 || w.dims.length !== 2) continue;
      axis = attrInt(node, 'transB', 0) ? 0 : 1;
      // The integer Gemm takes a bias vector with alpha = beta = 1 only.
      const alpha = node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1;
      const beta = node.attribute?.find((a) => a.name === 'beta')?.f ?? 1;
      if (alpha !== 1 || beta !== 1) continue;
      bias = b && b.dims.length === 1 && b.dims[0] === w.dims[axis] ? b : null;
      if (node.input[2] && !bias) continue;
    } else if (node.opType === 'MatMul') {
      if (w.dims.length !== 2) continue;
      axis = 1;
    } else {
      continue;
    }
    // A layer that writes a graph output (a classifier's logits) stays float: its output keeps full precision.
    if (outputs.has(node.output[0])) continue;
    if (excludedBy(node, w.name, opts.exclude ?? [])) {
      excluded.push({ node, weight: w.name });
      continue;
    }
    const target: QuantTarget = { node, weight: w, axis, bias };
    if (node.opType === 'MatMul') Object.assign(target, matMulBias(model, node, inits, w.dims[1]));
    targets.push(target);
  }
  const activations = new Set<string>();
  for (const t of targets) {
    activations.add(activationOf(t));
    if (quantizedOutput(t)) activations.add(t.node.output[0]);
  }
  return { targets, excluded, activations: [...activations] };
}

/** Weight quantization settings. */
export interface WeightOptions {
  /** One scale per output channel (true) or per tensor. */
  perChannel: boolean;
  /** 7-bit weights (±64), for CPUs without VNNI. */
  reduceRange?: boolean;
}

/** onnxruntime's contrib operator domain (MatMulIntegerToFloat, DynamicQuantizeMatMul). */
const MS_DOMAIN = 'com.microsoft';

/** The values a node reads, those its subgraphs (a Loop body) read from the enclosing scope included. */
function readsOf(node: OnnxNode): string[] {
  const inner = (node.attribute ?? []).flatMap((a) => [a.g, ...(a.graphs ?? [])]).filter((g): g is OnnxGraphObject => g !== undefined);
  return [...node.input, ...inner.flatMap((g) => (g.node ?? []).flatMap(readsOf))];
}

/** Adds initializers and nodes to a graph under construction, with fresh names. */
class Editor {
  readonly added: OnnxTensor[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly model: OnnxModelObject) {
    for (const t of model.graph.initializer) this.names.add(t.name);
    for (const n of model.graph.node) for (const o of n.output) this.names.add(o);
    for (const i of model.graph.input) this.names.add(i.name);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  init(base: string, dims: readonly number[], data: Float32Array | Int8Array | Uint8Array | Int32Array): string {
    const name = this.fresh(base);
    this.added.push(makeTensor(name, dims, data));
    return name;
  }

  /**
   * Installs `nodes` as the graph, drops initializers no node reads any more, appends the new
   * ones, and imports the contrib domain where a node uses it.
   */
  finish(nodes: OnnxNode[]): void {
    const used = new Set(nodes.flatMap(readsOf));
    for (const o of this.model.graph.output) used.add(o.name);
    this.model.graph.initializer = [...this.model.graph.initializer, ...this.added].filter((t) => used.has(t.name));
    this.model.graph.node = nodes;
    const imports = this.model.opsetImport ?? [];
    if (nodes.some((n) => n.domain === MS_DOMAIN) && !imports.some((o) => o.domain === MS_DOMAIN)) this.model.opsetImport = [...imports, { domain: MS_DOMAIN, version: 1 }];
  }
}

/** The weight's quantization, shared by the nodes that read the same initializer. */
function weightCache(opts: WeightOptions, type: 'int8' | 'uint8') {
  const cache = new Map<string, QuantizedWeight>();
  return (t: QuantTarget): QuantizedWeight => {
    const key = `${t.weight.name}:${t.axis}`;
    let q = cache.get(key);
    if (!q) cache.set(key, (q = quantizeWeight(tensorFloats(t.weight), t.weight.dims, opts.perChannel ? t.axis : null, type, opts.reduceRange)));
    return q;
  };
}

/** A weight [N, K] (Gemm with transB) as [K, N]. */
function transposed(data: Int8Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  return out;
}

/** Rebuilds the node list: each original node replaced by its planned nodes (none: removed). */
function spliced(model: OnnxModelObject, before: ReadonlyMap<OnnxNode, OnnxNode[]>, replace: ReadonlyMap<OnnxNode, OnnxNode[]>, after: ReadonlyMap<OnnxNode, OnnxNode[]>): OnnxNode[] {
  const nodes: OnnxNode[] = [];
  for (const n of model.graph.node) nodes.push(...(before.get(n) ?? []), ...(replace.get(n) ?? [n]), ...(after.get(n) ?? []));
  return nodes;
}

/**
 * Static quantization. Activations are uint8 with the calibrated range (asymmetric), weights
 * int8 (symmetric, per channel or per tensor), biases int32 with scale input × weight scale.
 * Conv and Gemm take the QDQ form: QuantizeLinear → DequantizeLinear pairs on the input and
 * output and DequantizeLinear on the weight and bias, which onnxruntime fuses into QLinearConv /
 * QGemm. The output pair restores the output's name, so every reader (a graph output too) reads
 * the dequantized value, the only one the fused kernel produces; other readers of an input keep
 * the float value. MatMul (with the bias a following Add adds) becomes onnxruntime's
 * MatMulIntegerToFloat on the quantized input: float output, no dequantize node.
 */
export function applyStatic(model: OnnxModelObject, plan: QuantPlan, ranges: ReadonlyMap<string, readonly [number, number]>, opts: WeightOptions): void {
  const ed = new Editor(model);
  const qweight = weightCache(opts, 'int8');
  interface Quantized { q: string; scale: string; zp: string; scaleValue: number; dq?: string }
  const quantized = new Map<string, Quantized>();
  const before = new Map<OnnxNode, OnnxNode[]>();
  const replace = new Map<OnnxNode, OnnxNode[]>();
  const after = new Map<OnnxNode, OnnxNode[]>();
  const weightInits = new Map<string, { q: string; scale: string; zp: string; dq?: string }>();
  const push = (m: Map<OnnxNode, OnnxNode[]>, n: OnnxNode, ...added: OnnxNode[]) => m.set(n, [...(m.get(n) ?? []), ...added]);
  /** Quantizes `tensor` (read from `source`) once; its nodes go where `emit` puts them. */
  const quantize = (tensor: string, source: string, emit: (n: OnnxNode) => void): Quantized => {
    let qz = quantized.get(tensor);
    if (qz) return qz;
    const r = ranges.get(tensor);
    if (!r) throw new Error(`quantization: no calibrated range for ${tensor}`);
    const p = activationQParams(r[0], r[1]);
    qz = {
      q: ed.fresh(`${tensor}__quantized`),
      scale: ed.init(`${tensor}__scale`, [], Float32Array.of(p.scale)),
      zp: ed.init(`${tensor}__zero_point`, [], Uint8Array.of(p.zeroPoint)),
      scaleValue: p.scale,
    };
    quantized.set(tensor, qz);
    emit({ opType: 'QuantizeLinear', input: [source, qz.scale, qz.zp], output: [qz.q], name: ed.fresh(`${tensor}__QuantizeLinear`) });
    return qz;
  };
  const dequantize = (qz: Quantized, tensor: string, out: string, emit: (n: OnnxNode) => void): string => {
    if (!qz.dq) {
      qz.dq = out;
      emit({ opType: 'DequantizeLinear', input: [qz.q, qz.scale, qz.zp], output: [out], name: ed.fresh(`${tensor}__DequantizeLinear`) });
    }
    return qz.dq;
  };
  // Conv/Gemm outputs first: the node writes `${out}__float`, the pair restores `out`.
  for (const t of plan.targets.filter(quantizedOutput)) {
    const out = t.node.output[0];
    const float = ed.fresh(`${out}__float`);
    t.node.output[0] = float;
    const emit = (n: OnnxNode) => push(after, t.node, n);
    dequantize(quantize(out, float, emit), out, out, emit);
  }
  for (const t of plan.targets) {
    const x = activationOf(t);
    const emit = (n: OnnxNode) => push(before, t.node, n);
    const xq = quantize(x, x, emit);
    if (t.weightLeft) {
      // onnxruntime's kernel takes an unsigned A with a signed or unsigned B: uint8 weights around 128, one scale.
      const w = quantizeWeight(tensorFloats(t.weight), t.weight.dims, null, 'uint8', opts.reduceRange);
      const wq = ed.init(`${t.weight.name}__uint8`, t.weight.dims, w.data);
      const ws = ed.init(`${t.weight.name}__scale`, [], w.scales);
      const wz = ed.init(`${t.weight.name}__zero_point`, [], Uint8Array.of(w.zeroPoint));
      const out = t.node.output[0];
      replace.set(t.node, [{ opType: 'MatMulIntegerToFloat', domain: MS_DOMAIN, input: [wq, xq.q, ws, xq.scale, wz, xq.zp], output: [out], name: ed.fresh(`${t.node.name ?? out}__MatMulIntegerToFloat`) }]);
      continue;
    }
    const w = qweight(t);
    const perChannel = w.axis !== null;
    const nScales = [w.scales.length];
    // One set of int8 initializers per weight, however many nodes read it (an RPN head on each level).
    const key = `${t.weight.name}:${t.axis}`;
    let inits = weightInits.get(key);
    if (!inits) {
      inits = {
        q: ed.init(`${t.weight.name}__int8`, t.weight.dims, w.data),
        scale: ed.init(`${t.weight.name}__scale`, perChannel ? nScales : [], w.scales),
        zp: ed.init(`${t.weight.name}__zero_point`, perChannel ? nScales : [], new Int8Array(w.scales.length)),
      };
      weightInits.set(key, inits);
    }
    const { q: wq, scale: ws, zp: wz } = inits;
    if (t.node.opType === 'MatMul') {
      const inputs = [xq.q, wq, xq.scale, ws, xq.zp, wz];
      if (t.bias) inputs.push(t.bias.name);
      const out = t.biasAdd ? t.biasAdd.output[0] : t.node.output[0];
      replace.set(t.node, [{ opType: 'MatMulIntegerToFloat', domain: MS_DOMAIN, input: inputs, output: [out], name: ed.fresh(`${t.node.name ?? out}__MatMulIntegerToFloat`) }]);
      if (t.biasAdd) replace.set(t.biasAdd, []);
      continue;
    }
    t.node.input[0] = dequantize(xq, x, ed.fresh(`${x}__dequantized`), emit);
    if (!inits.dq) {
      inits.dq = ed.fresh(`${t.weight.name}__dequantized`);
      emit({ opType: 'DequantizeLinear', input: [wq, ws, wz], output: [inits.dq], name: ed.fresh(`${t.weight.name}__DequantizeLinear`), attribute: perChannel ? [attr('axis', w.axis!)] : [] });
    }
    t.node.input[1] = inits.dq;
    if (t.bias) {
      const b = quantizeBias(tensorFloats(t.bias), xq.scaleValue, w.scales);
      const bq = ed.init(`${t.bias.name}__int32`, t.bias.dims, b.data);
      const bs = ed.init(`${t.bias.name}__scale`, perChannel ? nScales : [], perChannel ? b.scales : b.scales.subarray(0, 1));
      const bz = ed.init(`${t.bias.name}__zero_point`, perChannel ? nScales : [], new Int32Array(perChannel ? b.scales.length : 1));
      const bOut = ed.fresh(`${t.bias.name}__dequantized`);
      emit({ opType: 'DequantizeLinear', input: [bq, bs, bz], output: [bOut], name: ed.fresh(`${t.bias.name}__DequantizeLinear`), attribute: perChannel ? [attr('axis', 0)] : [] });
      t.node.input[2] = bOut;
    }
  }
  ed.finish(spliced(model, before, replace, after));
}

/**
 * Dynamic quantization: no calibration; each target's input is quantized at run time to uint8
 * with its own range. Gemm and MatMul become onnxruntime's DynamicQuantizeMatMul (int8 weights
 * [K, N], float bias, float output); Conv becomes ConvInteger with uint8 weights (symmetric
 * around 128: the kernel takes one weight zero point) on DynamicQuantizeLinear's output, its int32
 * result cast to float, scaled by input scale × weight scale and the bias added.
 */
export function applyDynamic(model: OnnxModelObject, plan: QuantPlan, opts: WeightOptions): void {
  const ed = new Editor(model);
  const qConv = weightCache(opts, 'uint8');
  const qMat = weightCache(opts, 'int8');
  const replace = new Map<OnnxNode, OnnxNode[]>();
  const dynamic = new Map<string, [string, string, string]>();
  for (const t of plan.targets) {
    const x = t.node.input[0];
    const out = t.biasAdd ? t.biasAdd.output[0] : t.node.output[0];
    const nodes: OnnxNode[] = [];
    const outC = t.weight.dims[t.axis];
    if (t.node.opType !== 'Conv') {
      const w = qMat(t);
      const [r, c] = t.weight.dims;
      const [data, dims] = t.node.opType === 'Gemm' && t.axis === 0 ? [transposed(w.data as Int8Array, r, c), [c, r]] : [w.data, [r, c]];
      const wq = ed.init(`${t.weight.name}__int8`, dims, data);
      const perChannel = w.axis !== null;
      const ws = ed.init(`${t.weight.name}__scale`, perChannel ? [outC] : [], w.scales);
      const wz = ed.init(`${t.weight.name}__zero_point`, perChannel ? [outC] : [], new Int8Array(w.scales.length));
      const inputs = [x, wq, ws, wz];
      if (t.bias) inputs.push(t.bias.name);
      nodes.push({ opType: 'DynamicQuantizeMatMul', domain: MS_DOMAIN, input: inputs, output: [out], name: ed.fresh(`${t.node.name ?? out}__DynamicQuantizeMatMul`) });
      replace.set(t.node, nodes);
      if (t.biasAdd) replace.set(t.biasAdd, []);
      continue;
    }
    let xq = dynamic.get(x);
    if (!xq) {
      xq = [ed.fresh(`${x}__quantized`), ed.fresh(`${x}__scale`), ed.fresh(`${x}__zero_point`)];
      dynamic.set(x, xq);
      nodes.push({ opType: 'DynamicQuantizeLinear', input: [x], output: [...xq], name: ed.fresh(`${x}__DynamicQuantizeLinear`) });
    }
    const w = qConv(t);
    const wq = ed.init(`${t.weight.name}__uint8`, t.weight.dims, w.data);
    const wz = ed.init(`${t.weight.name}__zero_point`, [], Uint8Array.of(w.zeroPoint));
    const integer = ed.fresh(`${out}__int32`);
    const kept = (t.node.attribute ?? []).filter((a) => ['dilations', 'group', 'kernel_shape', 'pads', 'strides', 'auto_pad'].includes(a.name));
    const ws = ed.init(`${t.weight.name}__scale`, w.axis === null ? [] : [1, outC, 1, 1], w.scales);
    const scale = ed.fresh(`${out}__scale`);
    const cast = ed.fresh(`${out}__cast`);
    const scaled = t.bias ? ed.fresh(`${out}__scaled`) : out;
    nodes.push(
      { opType: 'ConvInteger', input: [xq[0], wq, xq[2], wz], output: [integer], name: ed.fresh(`${t.node.name ?? out}__ConvInteger`), attribute: kept },
      { opType: 'Mul', input: [xq[1], ws], output: [scale], name: ed.fresh(`${out}__scale_Mul`) },
      { opType: 'Cast', input: [integer], output: [cast], name: ed.fresh(`${out}__Cast`), attribute: [attr('to', DT.FLOAT)] },
      { opType: 'Mul', input: [cast, scale], output: [scaled], name: ed.fresh(`${out}__Mul`) },
    );
    if (t.bias) {
      const bias = ed.init(`${t.bias.name}__bias`, [1, outC, 1, 1], tensorFloats(t.bias));
      nodes.push({ opType: 'Add', input: [scaled, bias], output: [out], name: ed.fresh(`${out}__Add`) });
    }
    replace.set(t.node, nodes);
  }
  ed.finish(spliced(model, new Map(), replace, new Map()));
}
