/** Reads what an ONNX file says about itself: producer, inputs and outputs with their dims, `metadata_props`. */
import protobuf from 'protobufjs';
import { onnxSchema } from './onnx-schema.js';

type MessageJson = { fields: Record<string, unknown> };

/**
 * ModelProto without what a description does not need: no nodes, and initializers by name only.
 * protobufjs skips the fields a type does not declare, so a file's weights and nodes are never
 * materialised (a few MB of packed int64 data would otherwise become hundreds of MB of objects).
 */
const HeaderProto = (() => {
  const json = JSON.parse(JSON.stringify(onnxSchema)) as { nested: { onnx: { nested: Record<string, MessageJson> } } };
  const types = json.nested.onnx.nested;
  const keep = (type: string, names: readonly string[]): void => {
    for (const k of Object.keys(types[type].fields)) if (!names.includes(k)) delete types[type].fields[k];
  };
  keep('ModelProto', ['irVersion', 'opsetImport', 'producerName', 'producerVersion', 'graph', 'metadataProps']);
  keep('GraphProto', ['name', 'initializer', 'input', 'output']);
  keep('TensorProto', ['name']);
  return protobuf.Root.fromJSON(json as protobuf.INamespace).lookupType('onnx.ModelProto');
})();

/** One graph input or output: its name and dims (numbers, or names of dynamic dims). */
export interface OnnxValueInfo {
  name: string;
  dims: Array<number | string>;
}

export interface OnnxInfo {
  producer: string;
  producerVersion: string;
  opset: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** `metadata_props`, key → value. */
  metadata: Record<string, string>;
}

interface Dim { dimValue?: number | { toNumber(): number }; dimParam?: string }
interface ValueInfo { name: string; type?: { tensorType?: { shape?: { dim?: Dim[] } } } }
interface Model {
  producerName?: string;
  producerVersion?: string;
  opsetImport?: Array<{ domain?: string; version?: number | { toNumber(): number } }>;
  graph?: { input?: ValueInfo[]; output?: ValueInfo[]; initializer?: Array<{ name: string }> };
  metadataProps?: Array<{ key: string; value: string }>;
}

const num = (v: number | { toNumber(): number } | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function valueInfo(v: ValueInfo): OnnxValueInfo {
  return { name: v.name, dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))) };
}

/** Decodes the header of an ONNX model: throws when the bytes are not a ModelProto with a graph. */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  let m: Model;
  try {
    m = HeaderProto.decode(bytes) as unknown as Model;
  } catch (e) {
    // protobufjs's own words ("index out of range: 56 + 1560278 > 5000") say little to a user.
    const msg = (e as Error).message;
    throw new Error(/index out of range/.test(msg) ? 'a protobuf field runs past the end of the file: truncated, or not ONNX'
      : /wire type/.test(msg) ? 'corrupt protobuf (an invalid field encoding): not ONNX' : `corrupt protobuf (${msg.split('\n')[0]})`);
  }
  if (!m.graph) throw new Error('not an ONNX model (no graph)');
  const inits = new Set((m.graph.initializer ?? []).map((t) => t.name));
  return {
    producer: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    opset: num((m.opsetImport ?? []).find((o) => !o.domain)?.version),
    inputs: (m.graph.input ?? []).filter((v) => !inits.has(v.name)).map(valueInfo),
    outputs: (m.graph.output ?? []).map(valueInfo),
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key, p.value])),
  };
}
