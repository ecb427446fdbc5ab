import type { StorageRef } from './torch-pickle.js';

/** An opened PyTorch checkpoint: its unpickled object and on-demand access to storages. */
export interface TorchArchive {
  format: 'zip' | 'legacy';
  /** The top-level object, with tensors as `TensorRef`s. */
  value: unknown;
  /** Bytes of all storages referenced by the pickle (for progress). */
  totalBytes: number;
  /** Reads a storage's raw little-endian bytes (a fresh, aligned buffer). */
  readStorage(s: StorageRef): Promise<Uint8Array>;
  /** Releases the file. */
  close(): Promise<void>;
}
