/**
 * Legacy PyTorch checkpoints (torch < 1.6, or `_use_new_zipfile_serialization=False`):
 * a sequence of pickles (magic number, protocol version, sys info, the object, the sorted list of
 * storage keys), then each storage as an int64 element count followed by its raw bytes.
 * Only the pickles are held in memory; storages are read from the file on demand.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { DTYPE_SIZE } from './dtypes.js';
import { describeValue, PickleTruncated, unpickle, type UnpickleOptions } from './pickle.js';
import { StorageRef, storageDtype, torchGlobals } from './torch-pickle.js';
import type { TorchArchive } from './pth-types.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(new ArrayBuffer(len));
  let off = 0;
  while (off < len) {
    const { bytesRead } = await fh.read(out, off, len - off, pos + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === len ? out : out.subarray(0, off);
}

interface Parsed {
  value: unknown;
  roots: Map<string, StorageRef>;
  keys: string[];
  dataStart: number;
}

function parsePickles(bytes: Uint8Array, path: string): Parsed {
  const base: Omit<UnpickleOptions, 'where'> = {};
  const magic = unpickle(bytes, 0, { ...base, where: `${path} (magic number)` });
  if (magic.value !== MAGIC_NUMBER) {
    throw new UserError(`${path}: not a PyTorch checkpoint (wrong magic number in the legacy header)`);
  }
  const proto = unpickle(bytes, magic.end, { ...base, where: `${path} (protocol)` });
  if (proto.value !== PROTOCOL_VERSION) {
    throw new UserError(`${path}: unsupported legacy PyTorch protocol version ${describeValue(proto.value)}`);
  }
  const sys = unpickle(bytes, proto.end, { ...base, where: `${path} (sys info)` });
  if (sys.value instanceof Map && sys.value.get('little_endian') === false) {
    throw new UserError(`${path}: big-endian checkpoints are not supported`);
  }
  const roots = new Map<string, StorageRef>();
  const views = new Map<string, StorageRef>();
  const where = `${path} (object pickle)`;
  const obj = unpickle(bytes, sys.end, {
    where,
    globals: torchGlobals(),
    persistentLoad: (pid) => {
      // ('storage', storage_type, root_key, location, numel, view_metadata)
      if (!Array.isArray(pid) || pid.length < 6) {
        throw new UserError(`${where}: unsupported persistent id`);
      }
      if (pid[0] === 'module') {
        throw new UserError(`${where}: the file holds a pickled nn.Module, not a state dict; save model.state_dict() instead`);
      }
      if (pid[0] !== 'storage') throw new UserError(`${where}: unsupported persistent id '${describeValue(pid[0])}'`);
      const [, type, key, location, numel, view] = pid as unknown[];
      const dtype = storageDtype(type);
      if (!dtype) throw new UserError(`${where}: unknown storage type`);
      if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) {
        throw new UserError(`${where}: malformed storage reference`);
      }
      let root = roots.get(key);
      if (!root) { root = new StorageRef(key, dtype, numel as number, describeValue(location)); roots.set(key, root); }
      if (view === null || view === undefined) return root;
      if (!Array.isArray(view) || view.length !== 3) throw new UserError(`${where}: malformed storage view`);
      const [vkey, voff, vsize] = view as unknown[];
      if (typeof vkey !== 'string' || !Number.isSafeInteger(voff) || !Number.isSafeInteger(vsize)) {
        throw new UserError(`${where}: malformed storage view`);
      }
      const o = voff as number;
      const n = vsize as number;
      if (o < 0 || n < 0 || o + n > root.numel) {
        throw new UserError(`${where}: storage view '${vkey}' (offset ${o}, size ${n}) lies outside its storage '${key}' of ${root.numel} elements`);
      }
      let v = views.get(vkey);
      if (!v) { v = new StorageRef(key, dtype, vsize as number, describeValue(location), voff as number); views.set(vkey, v); }
      return v;
    },
  });
  const keys = unpickle(bytes, obj.end, { where: `${path} (storage keys)` });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new UserError(`${path}: malformed storage key list`);
  }
  return { value: obj.value, roots, keys: keys.value as string[], dataStart: keys.end };
}

/** Opens a legacy (pre-zip) PyTorch checkpoint. */
export async function openTorchLegacy(path: string): Promise<TorchArchive> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let chunk = Math.min(size, 1 << 20);
    let parsed: Parsed;
    for (;;) {
      const bytes = await readAt(fh, 0, chunk);
      try {
        parsed = parsePickles(bytes, path);
        break;
      } catch (err) {
        if (!(err instanceof PickleTruncated) || chunk >= size) throw err;
        chunk = Math.min(size, chunk * 4);
      }
    }
    // Storage positions: each is an int64 element count then the bytes, in key-list order.
    const positions = new Map<string, number>();
    let pos = parsed.dataStart;
    for (const key of parsed.keys) {
      const root = parsed.roots.get(key);
      if (!root) throw new UserError(`${path}: storage '${key}' is listed but never used by the pickle`);
      const head = await readAt(fh, pos, 8);
      if (head.byteLength < 8) throw new UserError(`${path}: storage '${key}' is cut off (truncated file?)`);
      const n = new DataView(head.buffer).getBigInt64(0, true);
      if (n !== BigInt(root.numel)) {
        throw new UserError(`${path}: storage '${key}' holds ${n} elements, the pickle says ${root.numel}`);
      }
      positions.set(key, pos + 8);
      pos += 8 + root.numel * DTYPE_SIZE[root.dtype];
      if (pos > size) throw new UserError(`${path}: storage '${key}' runs past the end of the file (truncated file?)`);
    }
    const totalBytes = [...parsed.roots.values()].reduce((n, s) => n + s.numel * DTYPE_SIZE[s.dtype], 0);
    return {
      format: 'legacy',
      value: parsed.value,
      totalBytes,
      async readStorage(s: StorageRef): Promise<Uint8Array> {
        const p = positions.get(s.key);
        const root = parsed.roots.get(s.key);
        if (p === undefined || !root) throw new UserError(`${path}: storage '${s.key}' is not in the file`);
        const es = DTYPE_SIZE[s.dtype];
        if (s.viewOffset + s.numel > root.numel) {
          throw new UserError(`${path}: storage view of '${s.key}' runs past its ${root.numel} elements`);
        }
        const bytes = await readAt(fh, p + s.viewOffset * es, s.numel * es);
        if (bytes.byteLength < s.numel * es) throw new UserError(`${path}: storage '${s.key}' is cut off (truncated file?)`);
        return bytes;
      },
      async close(): Promise<void> { await fh.close(); },
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
