import type { HostTensor } from '../../core/host-tensor.js';
import type { CheckpointSource } from '../sources.js';

/** Where one source key goes: its canonical name and, if needed, a change of values or shape. */
export interface KeyTarget {
  name: string;
  /** Applied to the tensor (e.g. reorder classes); shape-only fixes are done by the normalizer. */
  transform?: (t: HostTensor, sourceKey: string) => HostTensor;
}

/** A key layout: renames the keys it recognizes and returns null for any other key. */
export interface KeyMap {
  source: CheckpointSource;
  /** Canonical target of a source key, or null when the key is not part of this layout. */
  target(key: string): KeyTarget | null;
}
