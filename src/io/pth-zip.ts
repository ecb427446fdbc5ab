/**
 * PyTorch zip checkpoints (torch >= 1.6): one top-level folder holding `data.pkl`, `data/<key>`
 * (raw storage bytes), `byteorder` and `version`. Entries are read on demand through yauzl's
 * random access, so the file is never held in memory as a whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { UserError } from '../core/errors.js';
import { limits, overLimit } from '../core/limits.js';
import { DTYPE_SIZE } from './dtypes.js';
import { describeValue, unpickle } from './pickle.js';
import { StorageRef, storageDtype, torchGlobals } from './torch-pickle.js';
import type { TorchArchive } from './pth-types.js';

/** Upper bound for `data.pkl` (state-dict pickles are KBs to a few MB). */
const MAX_PICKLE_BYTES = 1 << 30;

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zf) => {
      if (err || !zf) reject(new UserError(`${path}: not a valid PyTorch zip checkpoint (${err?.message ?? 'cannot open'})`));
      else resolve(zf);
    });
  });
}

function listEntries(zf: ZipFile, path: string): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    zf.on('entry', (e: Entry) => {
      // torch reads the first of two entries of one name; a reader that took the last could see
      // another file than torch.load does.
      if (entries.has(e.fileName)) {
        reject(new UserError(`${path}: the zip archive has two entries named '${e.fileName}'`));
        zf.close();
        return;
      }
      entries.set(e.fileName, e);
      zf.readEntry();
    });
    zf.on('end', () => resolve(entries));
    zf.on('error', (err: Error) => reject(new UserError(`${path}: corrupt zip archive (${err.message})`)));
    zf.readEntry();
  });
}

/** Reads an entry fully into `into` (a fresh, 8-byte aligned buffer by default). */
function readEntry(zf: ZipFile, e: Entry, path: string, into?: Uint8Array): Promise<Uint8Array> {
  if (e.compressionMethod !== 0 && e.uncompressedSize > limits().zip_inflate_bytes) {
    return Promise.reject(overLimit('zip_inflate_bytes', `${path}: compressed zip entry '${e.fileName}' declares ${e.uncompressedSize} bytes`));
  }
  if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize) {
    return Promise.reject(new UserError(`${path}: stored zip entry '${e.fileName}' declares ${e.uncompressedSize} bytes but holds ${e.compressedSize}`));
  }
  if (into && into.byteLength !== e.uncompressedSize) {
    return Promise.reject(new UserError(`${path}: zip entry '${e.fileName}' is ${e.uncompressedSize} bytes, expected ${into.byteLength}`));
  }
  return new Promise((resolve, reject) => {
    zf.openReadStream(e, (err, stream) => {
      if (err || !stream) {
        reject(new UserError(`${path}: cannot read zip entry '${e.fileName}' (${err?.message ?? 'no stream'}; truncated file?)`));
        return;
      }
      // Allocated only now: yauzl has checked that the entry's data lies inside the file.
      const out = into ?? new Uint8Array(new ArrayBuffer(e.uncompressedSize));
      let off = 0;
      stream.on('data', (chunk: Buffer) => {
        if (off + chunk.length > out.byteLength) {
          stream.destroy(new Error('entry longer than its declared size'));
          return;
        }
        out.set(chunk, off);
        off += chunk.length;
      });
      stream.on('error', (e2: Error) => reject(new UserError(`${path}: cannot read zip entry '${e.fileName}' (${e2.message}; truncated file?)`)));
      stream.on('end', () => {
        if (off !== out.byteLength) reject(new UserError(`${path}: zip entry '${e.fileName}' ended after ${off} of ${out.byteLength} bytes (truncated file?)`));
        else resolve(out);
      });
    });
  });
}

function dataStart(zf: ZipFile, e: Entry, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    zf.readLocalFileHeader(e, { minimal: true }, (err, h) => {
      if (err || !h) reject(new UserError(`${path}: bad local header for zip entry '${e.fileName}' (${err?.message ?? 'none'}; truncated file?)`));
      else resolve(h.fileDataStart);
    });
  });
}

/**
 * Reads a stored (uncompressed) entry, as torch writes them, straight from the file into a fresh
 * buffer; other entries go through yauzl's decompressing stream.
 */
async function readEntryDirect(zf: ZipFile, fh: FileHandle, e: Entry, path: string): Promise<Uint8Array> {
  if (e.compressionMethod !== 0 || e.isEncrypted()) return readEntry(zf, e, path);
  const start = await dataStart(zf, e, path);
  if (e.compressedSize !== e.uncompressedSize || start + e.uncompressedSize > (await fh.stat()).size) {
    throw new UserError(`${path}: zip entry '${e.fileName}' declares ${e.uncompressedSize} bytes that the file does not hold (truncated file?)`);
  }
  const out = new Uint8Array(new ArrayBuffer(e.uncompressedSize));
  let off = 0;
  while (off < out.byteLength) {
    const { bytesRead } = await fh.read(out, off, out.byteLength - off, start + off);
    if (bytesRead === 0) throw new UserError(`${path}: zip entry '${e.fileName}' is cut off (truncated file?)`);
    off += bytesRead;
  }
  return out;
}

/** Opens a torch zip checkpoint and interprets its `data.pkl`. */
export async function openTorchZip(path: string): Promise<TorchArchive> {
  const zf = await openZip(path);
  let fh: FileHandle | null = null;
  try {
    fh = await open(path, 'r');
    const entries = await listEntries(zf, path);
    const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length !== 1) {
      throw new UserError(`${path}: zip archive is not a PyTorch checkpoint (expected one '<folder>/data.pkl', found ${pkls.length})`);
    }
    const prefix = pkls[0].slice(0, -'data.pkl'.length);
    const bo = entries.get(`${prefix}byteorder`);
    if (bo && bo.uncompressedSize > 16) throw new UserError(`${path}: byteorder entry of ${bo.uncompressedSize} bytes (expected 'little')`);
    if (bo) {
      const order = new TextDecoder().decode(await readEntry(zf, bo, path)).trim();
      if (order !== 'little') throw new UserError(`${path}: byteorder '${order}' is not supported (only little-endian checkpoints)`);
    }
    const pklEntry = entries.get(pkls[0])!;
    if (pklEntry.uncompressedSize > MAX_PICKLE_BYTES) {
      throw new UserError(`${path}: data.pkl declares ${pklEntry.uncompressedSize} bytes, more than a state dict's pickle can need`);
    }
    const pkl = await readEntry(zf, pklEntry, path);
    const storages = new Map<string, StorageRef>();
    const where = `${path} (data.pkl)`;
    const { value } = unpickle(pkl, 0, {
      where,
      globals: torchGlobals(),
      persistentLoad: (pid) => {
        // ('storage', storage_type, key, location, numel)
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
          throw new UserError(`${where}: unsupported persistent id (only tensor storages are expected)`);
        }
        const [, type, key, location, numel] = pid as unknown[];
        const dtype = storageDtype(type);
        if (!dtype) throw new UserError(`${where}: unknown storage type ${describeValue(type)}`);
        if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key) || key.includes('..')) {
          throw new UserError(`${where}: storage key '${describeValue(key)}' points outside the archive's data folder`);
        }
        if (!Number.isSafeInteger(numel) || (numel as number) < 0) throw new UserError(`${where}: bad size for storage '${key}'`);
        let s = storages.get(key);
        if (!s) {
          const untyped = (type as { name?: string }).name === 'UntypedStorage';
          s = new StorageRef(key, dtype, numel as number, describeValue(location), 0, untyped);
          storages.set(key, s);
        }
        return s;
      },
    });
    const totalBytes = [...storages.values()].reduce((n, s) => n + s.numel * DTYPE_SIZE[s.dtype], 0);
    return {
      format: 'zip',
      value,
      totalBytes,
      async readStorage(s: StorageRef): Promise<Uint8Array> {
        const name = `${prefix}data/${s.key}`;
        const e = entries.get(name);
        if (!e) throw new UserError(`${path}: storage '${s.key}' is not in the archive (no entry '${name}')`);
        const need = s.numel * DTYPE_SIZE[s.dtype];
        if (e.uncompressedSize < need) {
          throw new UserError(`${path}: storage '${s.key}' has ${e.uncompressedSize} bytes, needs ${need}`);
        }
        const bytes = await readEntryDirect(zf, fh!, e, path);
        return bytes.subarray(0, need);
      },
      async close(): Promise<void> { zf.close(); await fh?.close(); },
    };
  } catch (err) {
    zf.close();
    await fh?.close();
    throw err;
  }
}
