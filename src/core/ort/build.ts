/** Builds the ONNX graph of a Network by running its forward pass on the symbolic engine. */
import type { Network } from '../model.js';
import type { WeightMap } from '../weights.js';
import { DataType, GraphBuilder } from './graph.js';
import { OrtDetOps } from './det-ops.js';
import type { OrtOpsOptions } from './ops.js';

export interface BuildOptions {
  /** Fixed input height and width; dynamic ('height', 'width') when omitted. */
  size?: readonly [number, number];
  /** Fixed batch size; dynamic ('batch') when omitted. */
  batch?: number;
  /** The graph's name. */
  name?: string;
  /** ONNX `metadata_props` (key → string) that describe the model to readers. */
  metadata?: Readonly<Record<string, string>>;
  /** The producer version written into the model. */
  producerVersion?: string;
  /** 'float16': large weight tensors stored in half precision, cast to float32 at load (half the file). */
  weightsDtype?: 'float32' | 'float16';
  /** How linear layers on feature maps are built (see {@link OrtOpsOptions}). */
  pointwise?: OrtOpsOptions['pointwise'];
}

/**
 * Serialised ONNX model with the input `input` (N, C, H, W), the network's table inputs (by name)
 * and its named outputs.
 */
export function buildOnnx(net: Network, weights: WeightMap, opts: BuildOptions = {}): Uint8Array {
  const g = new GraphBuilder();
  const batch = opts.batch ?? net.batch ?? 'batch';
  const x = g.input('input', [batch, net.inputChannels, opts.size?.[0] ?? 'height', opts.size?.[1] ?? 'width']);
  if (opts.batch !== undefined && net.batch !== undefined && opts.batch !== net.batch) throw new Error(`network runs batch ${net.batch}, asked for ${opts.batch}`);
  for (const [name, shape] of Object.entries(net.tables ?? {})) {
    if (name === 'input' || shape.length > 2) throw new Error(`table input '${name}': tables are rank 1 or 2 and not named 'input'`);
  }
  const tables = Object.fromEntries(Object.entries(net.tables ?? {}).map(([name, shape]) => [name, g.input(name, shape.map((d) => (d === -1 ? batch : d)))]));
  const ops = new OrtDetOps(g, weights, { pointwise: opts.pointwise });
  const outs = net.forward(ops, x, tables);
  for (const name of Object.keys(net.outputs)) {
    const v = outs[name];
    if (!v) throw new Error(`network did not produce output ${name}`);
    g.output(name, ops.materialize(v), net.outputTypes?.[name] === 'uint8' ? DataType.UINT8 : DataType.FLOAT);
  }
  return g.toBytes({ graphName: opts.name, metadata: opts.metadata, producerVersion: opts.producerVersion, weightsDtype: opts.weightsDtype });
}
