/** What the engines run: a set of declared parameters and a forward function over the op interface. */
import type { Ops } from './ops.js';
import type { ParamRegistry } from './params.js';

/** Rank of each named output: 4 for feature maps, 2 for vectors. */
export type OutputRanks = Record<string, 2 | 4>;

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
  /** Extra inputs by name: tables (rank 1 or 2) of these shapes. */
  readonly tables?: Readonly<Record<string, readonly number[]>>;
  forward<T>(ops: Ops<T>, x: T, tables?: Readonly<Record<string, T>>): Record<string, T>;
}
