/** What the engines run: a set of declared parameters and a forward function over the op interface. */
import type { HostTensor } from './host-tensor.js';
import type { Ops } from './ops.js';
import type { ParamRegistry } from './params.js';

/** Rank of each named output: 4 for feature maps (NCHW on the host), any other rank a table. */
export type OutputRanks = Record<string, 1 | 2 | 3 | 4 | 5>;

/**
 * A network the engines can run. Forward takes one NCHW image batch (`input`, 3 channels unless
 * stated) and, when `tables` declares them, named table inputs of fixed shape (a detector's valid
 * image size).
 */
export interface Network {
  readonly registry: ParamRegistry;
  readonly inputChannels: number;
  readonly outputs: OutputRanks;
  /** The one batch size the network runs (a detector: one image per call); any when omitted. */
  readonly batch?: number;
  /** Outputs stored in another element type by an ONNX graph (0/1 masks as uint8); float elsewhere. */
  readonly outputTypes?: Readonly<Record<string, 'uint8'>>;
  /** Extra inputs by name: tables (rank 1 or 2) of these shapes; −1 stands for the input's batch size. */
  readonly tables?: Readonly<Record<string, readonly number[]>>;
  forward<T>(ops: Ops<T>, x: T, tables?: Readonly<Record<string, T>>): Record<string, T>;
}

/**
 * Checks a run's table inputs against what `net` declares (same names, same shapes, −1 matching
 * `batch`, the input's batch size); throws naming the first mismatch.
 */
export function checkTables(net: Network, tables: Readonly<Record<string, HostTensor>>, batch: number): void {
  const declared = net.tables ?? {};
  for (const name of Object.keys(tables)) if (!(name in declared)) throw new Error(`network has no table input '${name}' (has: ${Object.keys(declared).join(', ') || 'none'})`);
  for (const [name, shape] of Object.entries(declared)) {
    const t = tables[name];
    if (!t) throw new Error(`table input '${name}' [${shape.join(', ')}] is missing`);
    const want = shape.map((d) => (d === -1 ? batch : d));
    if (t.shape.join(',') !== want.join(',')) throw new Error(`table input '${name}': expected [${want.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}
