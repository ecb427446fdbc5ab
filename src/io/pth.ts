/**
 * PyTorch checkpoints (`.pth`, `.pt`, `.bin`, `.ckpt`): zip (torch >= 1.6) or legacy format,
 * read through the restricted pickle interpreter (nothing in the file is executed).
 *
 * Tensors are materialized storage by storage: memory peaks at the float32 tensors built so far
 * plus one storage's raw bytes. Storage offsets, strides (non-contiguous views) and storages
 * shared by several tensors are honored.
 */
import { open } from 'node:fs/promises';
import { fileError, UserError } from '../core/errors.js';
import { limits, overLimit } from '../core/limits.js';
import { numel, shapeStr, type HostTensor } from '../core/host-tensor.js';
import { DTYPE_SIZE, decodeToFloat32, type StoredDType } from './dtypes.js';
import { openTorchZip } from './pth-zip.js';
import { openTorchLegacy } from './pth-legacy.js';
import type { TorchArchive } from './pth-types.js';
import { TensorRef, requiredElements, type StorageRef } from './torch-pickle.js';
import { findStateDict, stripPrefixes } from './state-dict.js';

/** Options for reading a PyTorch checkpoint. */
export interface TorchReadOptions {
  /** Top-level entry to take the state dict from (default: first known wrapper). */
  wrapper?: string;
  /** Progress in storage bytes read. */
  onProgress?: (done: number, total: number) => void;
}

/** A state dict read from a PyTorch checkpoint. */
export interface TorchStateDict {
  tensors: Map<string, HostTensor>;
  dtypes: Map<string, StoredDType>;
  wrapper: string | null;
  format: 'zip' | 'legacy';
  /** State-dict entries that are not tensors (skipped). */
  skipped: string[];
}

/** Name, dtype and shape of a tensor, read without its data. */
export interface TensorInfo {
  name: string;
  dtype: StoredDType;
  shape: number[];
}

function isTensorRef(v: unknown): v is TensorRef {
  return v instanceof TensorRef;
}

/** Opens a PyTorch checkpoint after checking its magic bytes. */
export async function openTorch(path: string): Promise<TorchArchive> {
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      head = new Uint8Array(512);
      const { bytesRead } = await fh.read(head, 0, 512, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fileError(path, err, `cannot open (${(err as Error).message})`);
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return openTorchZip(path);
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return openTorchLegacy(path);
  if (head.length >= 262 && new TextDecoder('latin1').decode(head.subarray(257, 262)) === 'ustar') {
    throw new UserError(`${path}: tar-based PyTorch checkpoint (torch < 0.4) is not supported; re-save it with a recent torch`);
  }
  const hex = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new UserError(`${path}: not a PyTorch checkpoint (unknown magic bytes ${hex || '(empty file)'})`);
}

/** Views of up to this many elements may expand their storage without limit (small broadcasts). */
const FREE_EXPANSION = 2 ** 20;

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Builds a contiguous float32 tensor from a strided view of `bytes` (a storage). */
function materialize(t: TensorRef, bytes: Uint8Array, shareWhole: boolean, where: string): HostTensor {
  const es = DTYPE_SIZE[t.dtype];
  const count = numel(t.shape);
  const req = requiredElements(t);
  if (req * es > bytes.byteLength) {
    throw new UserError(`${where}: view (offset ${t.offset}, size ${shapeStr(t.shape)}, stride ${shapeStr(t.stride)}) runs past its storage of ${bytes.byteLength / es} elements`);
  }
  if (count === 0) return { shape: [...t.shape], data: new Float32Array(0) };
  const lim = limits();
  if (count > lim.tensor_elements) {
    throw overLimit('tensor_elements', `${where}: size ${shapeStr(t.shape)} has ${count} elements`);
  }
  const stored = req - t.offset;
  if (count > FREE_EXPANSION && count > lim.tensor_amplification * stored) {
    throw overLimit('tensor_amplification', `${where}: view (size ${shapeStr(t.shape)}, stride ${shapeStr(t.stride)}) expands ${stored} stored elements to ${count}`);
  }
  if (isContiguous(t.shape, t.stride)) {
    const slice = bytes.subarray(t.offset * es, (t.offset + count) * es);
    const share = shareWhole && t.offset === 0 && slice.byteLength === bytes.byteLength;
    return { shape: [...t.shape], data: decodeToFloat32(t.dtype, slice, count, share) };
  }
  // Non-contiguous: decode the spanned range, then gather with an odometer over the indices.
  const span = decodeToFloat32(t.dtype, bytes.subarray(t.offset * es, req * es), req - t.offset);
  const out = new Float32Array(count);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < count; i++) {
    out[i] = span[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += t.stride[d];
      if (idx[d] < t.shape[d]) break;
      src -= t.stride[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return { shape: [...t.shape], data: out };
}

/**
 * Refuses a state dict whose tensors together materialize far more elements than its storages
 * hold (many views of one storage, legacy views of one root counted once), or more elements, or
 * storages larger, than a model can have (`model_parameters`), before any storage is read.
 */
function checkTotalExpansion(refs: Map<string, TensorRef>, byStorage: Map<StorageRef, string[]>, path: string): void {
  let wanted = 0;
  for (const t of refs.values()) wanted += numel(t.shape);
  // Views of one root storage (legacy files) share its elements: count each root once, by its extent.
  const roots = new Map<string, number>();
  for (const s of byStorage.keys()) roots.set(s.key, Math.max(roots.get(s.key) ?? 0, s.viewOffset + s.numel));
  let stored = 0;
  for (const n of roots.values()) stored += n;
  const lim = limits();
  if (wanted > FREE_EXPANSION && wanted > lim.tensor_amplification * stored) {
    throw overLimit('tensor_amplification', `${path}: the state dict's ${refs.size} tensors hold ${wanted} elements in views of only ${stored} stored elements`);
  }
  if (wanted > lim.model_parameters) throw overLimit('model_parameters', `${path}: the state dict's ${refs.size} tensors hold ${wanted} elements`);
  if (stored > lim.model_parameters) throw overLimit('model_parameters', `${path}: the state dict's storages hold ${stored} elements`);
}

/** Lists the state dict's tensors (name, dtype, shape) without reading storages. */
export async function inspectTorch(path: string, opts: { wrapper?: string } = {}): Promise<{
  tensors: TensorInfo[]; wrapper: string | null; format: 'zip' | 'legacy'; topKeys: string[];
}> {
  const ar = await openTorch(path);
  try {
    const { dict, wrapper } = findStateDict(ar.value, isTensorRef, path, opts.wrapper);
    const tensors: TensorInfo[] = [];
    for (const [name, v] of stripPrefixes(dict)) {
      if (v instanceof TensorRef) tensors.push({ name, dtype: v.dtype, shape: [...v.shape] });
    }
    // top-level keys are worth showing only when the state dict sits inside a wrapper
    const topKeys = wrapper !== null && ar.value instanceof Map
      ? [...ar.value.keys()].filter((k): k is string => typeof k === 'string') : [];
    return { tensors, wrapper, format: ar.format, topKeys };
  } finally {
    await ar.close();
  }
}

/** Reads the state dict of a PyTorch checkpoint as float32 host tensors. */
export async function readTorch(path: string, opts: TorchReadOptions = {}): Promise<TorchStateDict> {
  const ar = await openTorch(path);
  try {
    const { dict, wrapper } = findStateDict(ar.value, isTensorRef, path, opts.wrapper);
    const entries = stripPrefixes(dict);
    const refs = new Map<string, TensorRef>();
    const skipped: string[] = [];
    for (const [name, v] of entries) {
      if (v instanceof TensorRef) refs.set(name, v);
      else skipped.push(name);
    }
    // Group by storage so each storage is read once, then dropped.
    const byStorage = new Map<StorageRef, string[]>();
    for (const [name, t] of refs) {
      const list = byStorage.get(t.storage);
      if (list) list.push(name); else byStorage.set(t.storage, [name]);
    }
    const total = [...byStorage.keys()].reduce((n, s) => n + s.numel * DTYPE_SIZE[s.dtype], 0);
    checkTotalExpansion(refs, byStorage, path);
    const built = new Map<string, HostTensor>();
    let done = 0;
    for (const [storage, names] of byStorage) {
      const bytes = await ar.readStorage(storage);
      for (const name of names) {
        built.set(name, materialize(refs.get(name)!, bytes, names.length === 1, `${path}: tensor '${name}'`));
      }
      done += storage.numel * DTYPE_SIZE[storage.dtype];
      opts.onProgress?.(done, total);
    }
    const tensors = new Map<string, HostTensor>();
    const dtypes = new Map<string, StoredDType>();
    for (const [name, t] of refs) {
      tensors.set(name, built.get(name)!);
      dtypes.set(name, t.dtype);
    }
    return { tensors, dtypes, wrapper, format: ar.format, skipped };
  } finally {
    await ar.close();
  }
}
