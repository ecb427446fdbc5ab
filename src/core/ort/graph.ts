/**
 * An ONNX graph under construction: nodes, initializers, inputs and outputs, serialised to a
 * ModelProto with protobufjs (schema generated from onnx.proto).
 */
import protobuf from 'protobufjs';
import { onnxSchema } from './onnx-schema.js';
import { encodeFloat16 } from '../float16.js';
import type { Dims } from './sym-dims.js';

/** ONNX opset the graphs target (onnx 1.12's checker knows up to 17). */
export const OPSET = 17;
const IR_VERSION = 8;

const root = protobuf.Root.fromJSON(onnxSchema as protobuf.INamespace);
/** The ONNX ModelProto message type (also for reading models back, e.g. in tests). */
export const ModelProto = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto element types the graphs use. */
export enum DataType { FLOAT = 1, UINT8 = 2, INT64 = 7, BOOL = 9, FLOAT16 = 10 }
enum AttrType { FLOAT = 1, INT = 2, STRING = 3, GRAPH = 5, FLOATS = 6, INTS = 7 }

/** A subgraph (a Loop body) as an attribute value: see {@link GraphBuilder.subgraph}. */
export interface GraphAttr {
  readonly graph: GraphBuilder;
  readonly name: string;
}

/** Attribute values a node may carry. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | GraphAttr;

/** A symbolic tensor: the name of a graph value and its rank (4: feature map NCHW, 2: vector). */
export interface Sym {
  readonly id: string;
  readonly rank: number;
  /** Its shape, where the engine can state it (see sym-dims.ts). */
  readonly dims?: Dims;
}

interface TensorInit {
  name: string;
  dims: number[];
  dataType: DataType;
  rawData: Uint8Array;
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // A view of the values' bytes (little-endian host; typed arrays are tightly packed): the encoder
  // only reads it, so no copy is needed.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function encodeAttr(name: string, v: AttrValue, opts: SerializeOptions): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('graph' in v) return { name, type: AttrType.GRAPH, g: v.graph.graphProto(v.name, opts) };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  return { name, type: AttrType.FLOATS, floats: v.floats };
}

/** A node as recorded: attributes are encoded when the model is serialised. */
interface NodeRecord {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attrs: Record<string, AttrValue>;
}

/** Float initializers of fewer elements stay float32 under `weightsDtype: 'float16'` (norms, biases, scales). */
const MIN_HALF_ELEMENTS = 1024;

/** Options of {@link GraphBuilder.toBytes}. */
export interface SerializeOptions {
  /** The graph's name. */
  graphName?: string;
  /** ONNX `metadata_props`. */
  metadata?: Readonly<Record<string, string>>;
  /** The producer version written into the model. */
  producerVersion?: string;
  /**
   * 'float16': weight initializers of 1024 elements or more are stored as float16 and cast to
   * float32 by a Cast node (folded once when onnxruntime loads the model); the file is about half
   * the size. Constants and small tensors stay float32.
   */
  weightsDtype?: 'float32' | 'float16';
}

/**
 * Collects ONNX nodes, initializers, inputs and outputs, and serialises them to a ModelProto. A
 * {@link subgraph} (a Loop body) has nodes, inputs, outputs and initializers of its own (value
 * names are unique across all graphs). A subgraph sees its ancestors' values by name, so it
 * reuses their constants and initializers; weights it is first to use become its own
 * initializers, which onnxruntime then prepacks for the body's kernels as it does the main graph's.
 */
export class GraphBuilder {
  private readonly nodes: NodeRecord[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly annotations = new Map<string, Record<string, unknown>>();
  private readonly inits = new Map<string, TensorInit>();
  /** Initializers that hold weights (not constants of the graph's own arithmetic). */
  private readonly weightData = new Map<string, Float32Array>();
  private readonly constKeys = new Map<string, string>();
  private readonly counter: { next: number };
  private readonly children: GraphBuilder[] = [];

  /** A main graph's builder (`parent` null), or a subgraph's: see {@link subgraph}. */
  constructor(private readonly parent: GraphBuilder | null = null) {
    this.counter = parent ? parent.counter : { next: 0 };
  }

  /** A fresh value name (unique across the graph and its subgraphs). */
  fresh(hint = 'v'): string {
    return `${hint}_${this.counter.next++}`;
  }

  /** A builder for a subgraph of this graph. */
  subgraph(): GraphBuilder {
    const child = new GraphBuilder(this);
    this.children.push(child);
    return child;
  }

  /** Whether a subgraph of this graph (at any depth) has the initializer `name`. */
  private subgraphHasInit(name: string): boolean {
    return this.children.some((c) => c.inits.has(name) || c.subgraphHasInit(name));
  }

  /** Whether this graph or an ancestor has the initializer `name`. */
  private hasInit(name: string): boolean {
    return this.inits.has(name) || (this.parent?.hasInit(name) ?? false);
  }

  /** The name of a constant under `key` in this graph or an ancestor. */
  private constOf(key: string): string | undefined {
    return this.constKeys.get(key) ?? this.parent?.constOf(key);
  }

  /** Declares an input of a subgraph: a tensor of `type` with these dims (a Loop body's iteration number and condition). */
  bodyInput(hint: string, type: DataType, dims: ReadonlyArray<number | string>): string {
    const name = this.fresh(hint);
    this.inputs.push(this.valueInfo(name, dims, type));
    return name;
  }

  /** Declares an existing value as an output of a subgraph, of `type` and `rank` (dims unstated). */
  bodyOutput(id: string, type: DataType, rank: number): void {
    this.outputs.push(this.valueInfo(id, Array.from({ length: rank }, (_, i) => `${id}_d${i}`), type));
  }

  /** This builder as a graph attribute (a Loop's `body`), serialised with the model. */
  asAttr(name: string): GraphAttr {
    return { graph: this, name };
  }

  /** Adds a node; returns its output names. */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, nOut = 1): string[] {
    const outs = Array.from({ length: nOut }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ opType: op, input: [...inputs], output: outs, name: `${op}_${outs[0]}`, attrs });
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, attrs)[0];
  }

  /** Adds a float initializer under `name` (once); `constant` marks the graph's own constants (never stored as float16). */
  floatInit(name: string, dims: readonly number[], data: Float32Array, constant = false): string {
    if (!this.hasInit(name)) {
      // A subgraph's own initializer is out of this graph's scope; defining it twice would be an invalid model.
      if (this.subgraphHasInit(name)) throw new Error(`graph: ${name} is an initializer of a subgraph, used outside it`);
      this.inits.set(name, { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytesOf(data) });
      if (!constant) this.weightData.set(name, data);
    }
    return name;
  }

  /** A float constant, deduplicated by value. */
  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `f:${dims.join('x')}:${values.join(',')}`;
    let name = this.constOf(key);
    if (!name) {
      name = this.fresh('const');
      this.floatInit(name, dims, Float32Array.from(values), true);
      this.constKeys.set(key, name);
    }
    return name;
  }

  /** An int64 constant, deduplicated by value. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i:${dims.join('x')}:${values.join(',')}`;
    let name = this.constOf(key);
    if (!name) {
      name = this.fresh('const');
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.inits.set(name, { name, dims: [...dims], dataType: DataType.INT64, rawData: bytesOf(data) });
      this.constKeys.set(key, name);
    }
    return name;
  }

  /** Declares a float graph input; string dims are symbolic (dynamic). */
  input(name: string, dims: ReadonlyArray<number | string>): Sym {
    this.inputs.push(this.valueInfo(name, dims));
    return { id: name, rank: dims.length, dims: [...dims] };
  }

  /** Records the shape of an intermediate float value (an ONNX value_info entry), once. */
  annotate(name: string, dims: Dims): void {
    if (this.hasInit(name) || this.inputs.some((i) => i.name === name) || this.annotations.has(name)) return;
    this.annotations.set(name, this.valueInfo(name, dims));
  }

  /** Declares a graph output under `name`: float, or cast to `type`. */
  output(name: string, value: Sym, type = DataType.FLOAT): void {
    const [opType, attrs]: [string, Record<string, AttrValue>] = type === DataType.FLOAT ? ['Identity', {}] : ['Cast', { to: type }];
    this.nodes.push({ opType, input: [value.id], output: [name], name: `${opType}_${name}`, attrs });
    this.outputs.push(this.valueInfo(name, Array.from({ length: value.rank }, (_, i) => `${name}_d${i}`), type));
  }

  private valueInfo(name: string, dims: ReadonlyArray<number | string>, elemType = DataType.FLOAT): Record<string, unknown> {
    return {
      name,
      type: {
        tensorType: {
          elemType,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    };
  }

  /**
   * This graph as a GraphProto object: its nodes (attributes encoded, subgraphs included), its
   * initializers (large weights as float16 behind a Cast under `weightsDtype: 'float16'`),
   * inputs, outputs and value infos.
   */
  graphProto(name: string, opts: SerializeOptions): Record<string, unknown> {
    const inits: TensorInit[] = [];
    const casts: Record<string, unknown>[] = [];
    for (const init of this.inits.values()) {
      const data = this.weightData.get(init.name);
      if (opts.weightsDtype === 'float16' && data && data.length >= MIN_HALF_ELEMENTS) {
        const half = `${init.name}__fp16`;
        const bits = encodeFloat16(data);
        inits.push({ name: half, dims: init.dims, dataType: DataType.FLOAT16, rawData: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) });
        casts.push({ opType: 'Cast', input: [half], output: [init.name], name: `Cast_${init.name}`, attribute: [encodeAttr('to', DataType.FLOAT, opts)] });
      } else {
        inits.push(init);
      }
    }
    const node = this.nodes.map(({ attrs, ...n }) => ({ ...n, attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v, opts)) }));
    return { name, node: [...casts, ...node], initializer: inits, input: this.inputs, output: this.outputs, valueInfo: [...this.annotations.values()] };
  }

  /** Serialises the model (see {@link SerializeOptions}). */
  toBytes(opts: SerializeOptions = {}): Uint8Array {
    const model = {
      irVersion: IR_VERSION,
      producerName: 'convnext',
      producerVersion: opts.producerVersion ?? '',
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      opsetImport: [{ domain: '', version: OPSET }],
      graph: this.graphProto(opts.graphName ?? 'convnext', opts),
    };
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
