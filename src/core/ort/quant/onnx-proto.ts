/**
 * A whole ONNX model as plain objects (nodes, initializers, value infos), for graph rewrites such
 * as quantization: decoded with protobufjs, edited, encoded again.
 */
import { ModelProto } from '../graph.js';

/** ONNX TensorProto data types this module reads or writes. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
  floats?: number[];
  /** A subgraph (a Loop body) and lists of them. */
  g?: OnnxGraphObject;
  graphs?: OnnxGraphObject[];
}

export interface OnnxNode {
  opType: string;
  input: string[];
  output: string[];
  name?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
}

export interface OnnxValue {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: Array<{ dimValue?: number; dimParam?: string }> } } };
}

export interface OnnxGraphObject {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValue[];
  output: OnnxValue[];
  valueInfo?: OnnxValue[];
}

export interface OnnxModelObject {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  opsetImport?: Array<{ domain?: string; version: number }>;
  metadataProps?: Array<{ key: string; value: string }>;
  graph: OnnxGraphObject;
}

/** Decodes a serialised ModelProto (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): OnnxModelObject {
  const msg = ModelProto.decode(bytes);
  const obj = ModelProto.toObject(msg, { longs: Number, arrays: true }) as OnnxModelObject;
  if (!obj.graph) throw new Error('the model has no graph');
  for (const k of ['node', 'initializer', 'input', 'output', 'valueInfo'] as const) obj.graph[k] ??= [];
  for (const n of obj.graph.node) {
    n.input ??= [];
    n.output ??= [];
  }
  return obj;
}

/** Serialises a model object back to a ModelProto. */
export function encodeModel(model: OnnxModelObject): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** The float32 values of an initializer (raw data or float_data). */
export function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.dataType !== DT.FLOAT) throw new Error(`initializer ${t.name}: data type ${t.dataType}, expected float32`);
  if (t.rawData && t.rawData.byteLength) {
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

function raw(a: Float32Array | Int8Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** An initializer of `dims` holding `data` (float32, int8, uint8 or int32). */
export function makeTensor(name: string, dims: readonly number[], data: Float32Array | Int8Array | Uint8Array | Int32Array): OnnxTensor {
  const dataType = data instanceof Float32Array ? DT.FLOAT : data instanceof Int8Array ? DT.INT8 : data instanceof Uint8Array ? DT.UINT8 : DT.INT32;
  return { name, dims: [...dims], dataType, rawData: raw(data) };
}

/** A node attribute. */
export function attr(name: string, v: number | number[] | string): OnnxAttribute {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  return { name, type: ATTR.INT, i: v };
}

/** A node's integer (or integer list) attribute, or `fallback`. */
export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i ?? fallback;
}

/** Adds `value` as a float graph output of unknown shape (for taps on intermediate values). */
export function floatOutput(name: string): OnnxValue {
  return { name, type: { tensorType: { elemType: DT.FLOAT } } };
}

/** Metadata as a key → value record. */
export function metadataOf(model: OnnxModelObject): Record<string, string> {
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key, p.value]));
}

/** Sets (adds or replaces) metadata entries. */
export function setMetadata(model: OnnxModelObject, entries: Readonly<Record<string, string>>): void {
  const kept = (model.metadataProps ?? []).filter((p) => !(p.key in entries));
  model.metadataProps = [...kept, ...Object.entries(entries).map(([key, value]) => ({ key, value }))];
}
