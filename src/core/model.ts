/** What the engines run: a set of declared parameters and a forward function over the op interface. */
import type { Ops } from './ops.js';
import type { ParamRegistry } from './params.js';

/** Rank of each named output: 4 for feature maps, 2 for vectors. */
export type OutputRanks = Record<string, 2 | 4>;

/** A network the engines can run. Forward takes one NCHW image batch (3 channels unless stated). */
export interface Network {
  readonly registry: ParamRegistry;
  readonly inputChannels: number;
  readonly outputs: OutputRanks;
  forward<T>(ops: Ops<T>, x: T): Record<string, T>;
}
