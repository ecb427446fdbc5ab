/**
 * One entry point for weights: `.safetensors` and PyTorch `.pth` / `.pt` / `.bin` files, any of
 * the known key layouts, renamed to canonical names.
 */
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { readSafetensors } from './safetensors.js';
import type { CheckpointSource } from './sources.js';

export type { CheckpointSource } from './sources.js';

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions {
  /** Force a key layout instead of detecting it from the keys. */
  from?: CheckpointSource;
  /** Progress in bytes read. */
  onProgress?: (done: number, total: number) => void;
}

/** Weights with canonical names and where they came from. */
export interface LoadedWeights {
  /** Tensors under canonical names (float32, PyTorch layout). */
  tensors: Map<string, HostTensor>;
  /** Detected (or forced) key layout; `canonical` for files written by `convnext convert`. */
  source: CheckpointSource | 'canonical';
  /** The top-level entry the state dict was found in (`model`, `state_dict`, ...), or null. */
  wrapper: string | null;
  /** The file read. */
  file: string;
}

/** Metadata key that `convnext convert` writes into canonical safetensors files. */
export const CANONICAL_METADATA_KEY = 'convnext.layout';

/** Loads a checkpoint file and returns its tensors under canonical names. */
export async function loadWeights(path: string, opts: LoadWeightsOptions = {}): Promise<LoadedWeights> {
  if (!/\.safetensors$/i.test(path)) {
    throw new UserError(`${path}: only .safetensors files are supported so far`);
  }
  const { tensors, metadata } = await readSafetensors(path, { onProgress: opts.onProgress });
  const canonical = metadata[CANONICAL_METADATA_KEY] === 'canonical';
  return { tensors, source: canonical ? 'canonical' : (opts.from ?? 'official'), wrapper: null, file: path };
}
