/**
 * One entry point for weights: `.safetensors` and PyTorch checkpoints (`.pth`, `.pt`, `.bin`,
 * `.ckpt`; zip or legacy), in any of the known key layouts, renamed to canonical names.
 */
import { UserError } from '../core/errors.js';
import { numel, type HostTensor } from '../core/host-tensor.js';
import type { StoredDType } from './dtypes.js';
import { detectSource, mapToCanonical, unmappedKeys } from './keymaps/index.js';
import { inspectTorch, readTorch } from './pth.js';
import { inspectSafetensors, looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { CHECKPOINT_SOURCES, type CheckpointSource } from './sources.js';
import { stripPrefixes } from './state-dict.js';

export type { CheckpointSource } from './sources.js';

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions {
  /** Force a key layout instead of detecting it from the keys. */
  from?: CheckpointSource;
  /** Top-level entry of a PyTorch checkpoint to read (e.g. `model_ema`); default: the first known one. */
  wrapper?: string;
  /** Progress in bytes of tensor data read. */
  onProgress?: (done: number, total: number) => void;
}

/** Weights with canonical names and where they came from. */
export interface LoadedWeights {
  /** Tensors under canonical names (float32, PyTorch layout, canonical shapes). */
  tensors: Map<string, HostTensor>;
  /** Detected (or forced) key layout; `canonical` for files written by `convnext convert`. */
  source: CheckpointSource | 'canonical';
  /** The top-level entry the state dict was found in (`model`, `state_dict`, ...), or null. */
  wrapper: string | null;
  /** The file read. */
  file: string;
  /** Keys of the file that the layout does not map (left out of `tensors`). */
  unmapped: string[];
  /** State-dict entries that are not tensors (skipped). */
  skipped: string[];
  /** Stored dtype of each canonical tensor. */
  dtypes: Map<string, StoredDType>;
}

/** Metadata key that `convnext convert` writes into canonical safetensors files. */
export const CANONICAL_METADATA_KEY = 'convnext.layout';

/** Container format of a weights file. */
export type WeightsFormat = 'safetensors' | 'zip' | 'legacy';

async function isSafetensors(path: string): Promise<boolean> {
  if (/\.safetensors$/i.test(path)) return true;
  try {
    return await looksLikeSafetensors(path);
  } catch {
    return false; // missing files are reported by the reader
  }
}

function layoutError(path: string, keys: string[]): UserError {
  const eg = keys.slice(0, 3).map((k) => `'${k}'`).join(', ');
  return new UserError(`${path}: cannot tell the key layout from ${keys.length} keys (such as ${eg}); pass --from ${CHECKPOINT_SOURCES.join('|')}`);
}

/** Loads a checkpoint file and returns its tensors under canonical names. */
export async function loadWeights(path: string, opts: LoadWeightsOptions = {}): Promise<LoadedWeights> {
  let raw: Map<string, HostTensor>;
  let rawDtypes: Map<string, StoredDType>;
  let wrapper: string | null = null;
  let skipped: string[] = [];
  let canonical = false;
  if (await isSafetensors(path)) {
    const st = await readSafetensors(path, { onProgress: opts.onProgress });
    raw = stripPrefixes(st.tensors);
    rawDtypes = stripPrefixes(st.dtypes);
    canonical = st.metadata[CANONICAL_METADATA_KEY] === 'canonical';
  } else {
    const pt = await readTorch(path, { wrapper: opts.wrapper, onProgress: opts.onProgress });
    raw = pt.tensors;
    rawDtypes = pt.dtypes;
    wrapper = pt.wrapper;
    skipped = pt.skipped;
  }
  const keys = [...raw.keys()];
  if (canonical && !opts.from) {
    return { tensors: raw, source: 'canonical', wrapper, file: path, unmapped: [], skipped, dtypes: rawDtypes };
  }
  const source = opts.from ?? detectSource(keys);
  if (!source) throw layoutError(path, keys);
  const { tensors, unmapped, origin } = mapToCanonical(raw, source, path);
  if (tensors.size === 0) {
    throw new UserError(`${path}: no key matches the ${source} layout (keys such as '${keys[0] ?? ''}')`);
  }
  const dtypes = new Map<string, StoredDType>();
  for (const [name, k] of origin) dtypes.set(name, rawDtypes.get(k)!);
  return { tensors, source, wrapper, file: path, unmapped, skipped, dtypes };
}

/** What {@link inspectWeights} reports about a file, without reading tensor data. */
export interface WeightsInfo {
  file: string;
  format: WeightsFormat;
  /** Tensors as named in the file. */
  tensors: Array<{ name: string; dtype: StoredDType; shape: number[] }>;
  /** Total number of elements. */
  parameterCount: number;
  /** Detected layout (`canonical` for converted files), or null when unknown. */
  source: CheckpointSource | 'canonical' | null;
  wrapper: string | null;
  /** Keys the detected layout does not map. */
  unmapped: string[];
  /** safetensors metadata, or the top-level keys of a PyTorch checkpoint. */
  metadata: Record<string, string>;
  topKeys: string[];
}

/** Lists a weights file's tensors (names, dtypes, shapes), parameter count, layout and wrapper. */
export async function inspectWeights(path: string, opts: { wrapper?: string } = {}): Promise<WeightsInfo> {
  let tensors: WeightsInfo['tensors'];
  let format: WeightsFormat;
  let wrapper: string | null = null;
  let metadata: Record<string, string> = {};
  let topKeys: string[] = [];
  if (await isSafetensors(path)) {
    const st = await inspectSafetensors(path);
    tensors = st.tensors;
    metadata = st.metadata;
    format = 'safetensors';
  } else {
    const pt = await inspectTorch(path, opts);
    tensors = pt.tensors;
    wrapper = pt.wrapper;
    format = pt.format;
    topKeys = pt.topKeys;
  }
  const keys = [...stripPrefixes(new Map(tensors.map((t) => [t.name, true]))).keys()];
  const canonical = metadata[CANONICAL_METADATA_KEY] === 'canonical';
  const source = canonical ? 'canonical' : detectSource(keys);
  const unmapped = source && source !== 'canonical' ? unmappedKeys(keys, source) : [];
  const parameterCount = tensors.reduce((n, t) => n + numel(t.shape), 0);
  return { file: path, format, tensors, parameterCount, source, wrapper, unmapped, metadata, topKeys };
}
