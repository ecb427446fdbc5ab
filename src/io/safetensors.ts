/**
 * safetensors read / write.
 *
 * Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`),
 * then the data block; offsets are relative to the data block.
 *
 * Reading goes tensor by tensor through a file handle, so memory peaks at the decoded tensors
 * plus one tensor's raw bytes. Writing is atomic (see {@link withAtomicFile}).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { fileError, UserError } from '../core/errors.js';
import { numel, shapeStr, type DType, type HostTensor } from '../core/host-tensor.js';
import { DTYPE_SIZE, decodeToFloat32, encodeFromFloat32, type StoredDType } from './dtypes.js';
import { withAtomicFile, writeAll } from './atomic.js';
import { firstDuplicateKey } from './json-keys.js';

/** safetensors dtype tags and our names for them. */
const TAG_TO_DTYPE: Readonly<Record<string, StoredDType>> = {
  BOOL: 'bool', U8: 'uint8', I8: 'int8', I16: 'int16', U16: 'uint16', F16: 'float16',
  BF16: 'bfloat16', I32: 'int32', U32: 'uint32', F32: 'float32', F64: 'float64',
  I64: 'int64', U64: 'uint64', F8_E4M3: 'float8_e4m3fn', F8_E5M2: 'float8_e5m2',
  F8_E8M0: 'float8_e8m0fnu',
};
/** Tags the format defines that have no real-valued float32 meaning here. */
const UNSUPPORTED_TAGS: Readonly<Record<string, string>> = {
  C64: 'complex values', F4: 'packed 4-bit floats', F6_E2M3: 'packed 6-bit floats',
  F6_E3M2: 'packed 6-bit floats', F8_E4M3FNUZ: 'the FNUZ 8-bit float variant',
  F8_E5M2FNUZ: 'the FNUZ 8-bit float variant',
};
const DTYPE_TO_TAG: Readonly<Record<DType, string>> = {
  bool: 'BOOL', uint8: 'U8', int8: 'I8', int16: 'I16', float16: 'F16', bfloat16: 'BF16',
  int32: 'I32', float32: 'F32', float64: 'F64', int64: 'I64',
};

/** Largest header accepted (the reference implementation uses 100 MB). */
const MAX_HEADER = 100_000_000;

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  name: string;
  dtype: StoredDType;
  shape: number[];
  /** Byte offsets [begin, end) in the data block. */
  offsets: [number, number];
}

/** A tensor as stored: original dtype and little-endian bytes. */
export interface RawTensor {
  dtype: StoredDType;
  shape: number[];
  bytes: Uint8Array;
}

/** Result of {@link readSafetensors}. */
export interface SafetensorsContents {
  /** Every tensor, converted to float32, in file order. */
  tensors: Map<string, HostTensor>;
  /** Stored dtype of every tensor. */
  dtypes: Map<string, StoredDType>;
  /** The `__metadata__` block (empty when absent). */
  metadata: Record<string, string>;
  /** With `keepDtype`: each tensor's stored bytes (float32 ones share memory with `tensors`). */
  raw?: Map<string, RawTensor>;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Also return the stored bytes of each tensor in its original dtype (`raw`). */
  keepDtype?: boolean;
  /** Called after each tensor with bytes read so far and the data block's size. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** String metadata stored as `__metadata__`. */
  metadata?: Record<string, string>;
  /** Dtype for every tensor not named in `dtypes` (default float32). */
  dtype?: 'float32' | 'float16';
  /** Per-tensor dtypes, e.g. int64 for `num_batches_tracked`. */
  dtypes?: Map<string, DType>;
  /** Called after each tensor with bytes written so far and the data block's size. */
  onProgress?: (done: number, total: number) => void;
}

async function readExactly(fh: FileHandle, into: Uint8Array, position: number, file: string): Promise<void> {
  let off = 0;
  while (off < into.byteLength) {
    const { bytesRead } = await fh.read(into, off, into.byteLength - off, position + off);
    if (bytesRead === 0) throw new UserError(`${file}: unexpected end of file (truncated?)`);
    off += bytesRead;
  }
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * The reference reader's layout rule: the tensors, in offset order, tile the data block exactly
 * (each starts where the previous ended, the last ends at the end of the file): no gap, no
 * overlap, no trailing bytes.
 */
function checkLayout(entries: readonly SafetensorsEntry[], dataSize: number, file: string): void {
  const order = [...entries].sort((a, b) => a.offsets[0] - b.offsets[0] || a.offsets[1] - b.offsets[1]);
  let at = 0;
  for (const e of order) {
    if (e.offsets[0] !== at) {
      const what = e.offsets[0] < at ? 'overlaps the tensor before it' : `leaves a gap of ${e.offsets[0] - at} bytes before it`;
      throw new UserError(`${file}: tensor '${e.name}' (data_offsets [${e.offsets.join(', ')}]) ${what}`);
    }
    at = e.offsets[1];
  }
  if (at !== dataSize) throw new UserError(`${file}: the tensors cover ${at} bytes of a ${dataSize}-byte data block`);
}

/**
 * Parses and validates a safetensors header (the JSON text's bytes) for a data block of
 * `dataSize` bytes, as the reference reader does: a JSON object without duplicate keys, known
 * dtypes, shapes matching their byte spans, tensors tiling the data block exactly. `file` names
 * the file in errors. Pure (no I/O), so it can be tested on any bytes.
 */
export function parseSafetensorsHeader(hbuf: Uint8Array, dataSize: number, file: string): {
  entries: SafetensorsEntry[]; metadata: Record<string, string>;
} {
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(hbuf);
    header = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: safetensors header is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header) || text.trimStart()[0] !== '{') {
    throw new UserError(`${file}: safetensors header is not a JSON object`);
  }
  const dup = firstDuplicateKey(text);
  if (dup !== undefined) throw new UserError(`${file}: safetensors header has the key '${dup}' twice`);
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isStringRecord(v)) throw new UserError(`${file}: __metadata__ must map strings to strings`);
      metadata = v;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `${file}: tensor '${name}'`;
    if (typeof e !== 'object' || e === null) throw new UserError(`${where}: header entry is not an object`);
    if (typeof e.dtype !== 'string') throw new UserError(`${where}: missing dtype`);
    // Own keys only: a dtype named 'constructor' or 'toString' is unknown, not Object's member.
    const dtype = Object.hasOwn(TAG_TO_DTYPE, e.dtype) ? TAG_TO_DTYPE[e.dtype] : undefined;
    if (!dtype) {
      const why = Object.hasOwn(UNSUPPORTED_TAGS, e.dtype) ? UNSUPPORTED_TAGS[e.dtype] : undefined;
      throw new UserError(why ? `${where}: dtype ${e.dtype} (${why}) is not supported`
        : `${where}: unknown dtype '${e.dtype}'`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new UserError(`${where}: shape must be a list of non-negative integers`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new UserError(`${where}: data_offsets must be two non-negative integers`);
    }
    const [b, end] = off as [number, number];
    const expected = numel(shape) * DTYPE_SIZE[dtype];
    if (!Number.isSafeInteger(expected)) throw new UserError(`${where}: shape ${shapeStr(shape)} is too large`);
    if (end - b !== expected) {
      throw new UserError(`${where}: data_offsets span ${end - b} bytes but ${e.dtype} ${shapeStr(shape)} needs ${expected}`);
    }
    if (end > dataSize) {
      throw new UserError(`${where}: data ends at byte ${end} past the end of the data block (${dataSize} bytes; truncated file?)`);
    }
    entries.push({ name, dtype, shape, offsets: [b, end] });
  }
  checkLayout(entries, dataSize, file);
  return { entries, metadata };
}

/** Reads and validates the header of an open safetensors file. */
async function readHeader(fh: FileHandle, file: string): Promise<{
  entries: SafetensorsEntry[]; metadata: Record<string, string>; dataStart: number; dataSize: number;
}> {
  const size = (await fh.stat()).size;
  if (size < 8) throw new UserError(`${file}: not a safetensors file (only ${size} bytes)`);
  const lenBuf = new Uint8Array(8);
  await readExactly(fh, lenBuf, 0, file);
  const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, size - 8)) || n < 2n) {
    throw new UserError(`${file}: not a safetensors file (header length ${n} does not fit a ${size}-byte file)`);
  }
  const headerLen = Number(n);
  const hbuf = new Uint8Array(headerLen);
  await readExactly(fh, hbuf, 8, file);
  const dataStart = 8 + headerLen;
  const dataSize = size - dataStart;
  return { ...parseSafetensorsHeader(hbuf, dataSize, file), dataStart, dataSize };
}

/** Opens `path`, mapping a missing or unreadable file to a {@link UserError}. */
async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw fileError(path, err, `cannot open (${(err as Error).message})`);
  }
}

/** Lists the tensors (name, dtype, shape) and metadata of a safetensors file without reading data. */
export async function inspectSafetensors(path: string): Promise<{
  tensors: Array<{ name: string; dtype: StoredDType; shape: number[] }>;
  metadata: Record<string, string>;
}> {
  const fh = await openForRead(path);
  try {
    const { entries, metadata } = await readHeader(fh, path);
    return { tensors: entries.map(({ name, dtype, shape }) => ({ name, dtype, shape })), metadata };
  } finally {
    await fh.close();
  }
}

/**
 * Reads every tensor of a safetensors file, converted to float32 (all real dtypes the format
 * defines: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E8M0, I64/U64, I32/U32, I16/U16, I8/U8, BOOL).
 * Throws a {@link UserError} naming the file and the problem for a malformed file.
 */
export async function readSafetensors(path: string, opts: ReadSafetensorsOptions = {}): Promise<SafetensorsContents> {
  const fh = await openForRead(path);
  try {
    const { entries, metadata, dataStart, dataSize } = await readHeader(fh, path);
    const tensors = new Map<string, HostTensor>();
    const dtypes = new Map<string, StoredDType>();
    const raw = opts.keepDtype ? new Map<string, RawTensor>() : undefined;
    // Read in file order (sequential I/O), then report in header order.
    const order = [...entries].sort((a, b) => a.offsets[0] - b.offsets[0]);
    const decoded = new Map<string, { t: HostTensor; bytes: Uint8Array }>();
    let done = 0;
    for (const e of order) {
      const count = numel(e.shape);
      const nbytes = e.offsets[1] - e.offsets[0];
      let data: Float32Array;
      let bytes: Uint8Array;
      if (e.dtype === 'float32') {
        data = new Float32Array(count);
        bytes = new Uint8Array(data.buffer);
        await readExactly(fh, bytes, dataStart + e.offsets[0], path);
      } else {
        bytes = new Uint8Array(nbytes);
        await readExactly(fh, bytes, dataStart + e.offsets[0], path);
        data = decodeToFloat32(e.dtype, bytes, count);
      }
      decoded.set(e.name, { t: { shape: [...e.shape], data }, bytes });
      done += nbytes;
      opts.onProgress?.(done, dataSize);
    }
    for (const e of entries) {
      const d = decoded.get(e.name);
      if (!d) continue;
      tensors.set(e.name, d.t);
      dtypes.set(e.name, e.dtype);
      raw?.set(e.name, { dtype: e.dtype, shape: [...e.shape], bytes: d.bytes });
    }
    return raw ? { tensors, dtypes, metadata, raw } : { tensors, dtypes, metadata };
  } finally {
    await fh.close();
  }
}

/** Values of float tensors go to `dtype`; a per-tensor entry in `dtypes` wins. */
function dtypeFor(name: string, opts: WriteSafetensorsOptions): DType {
  return opts.dtypes?.get(name) ?? opts.dtype ?? 'float32';
}

/**
 * Writes tensors to a safetensors file atomically (temporary file in the same folder + rename),
 * in float32 or float16 (per-tensor overrides through `dtypes`). The header is padded with
 * spaces to a multiple of 8 bytes, as the reference writer does.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, HostTensor>,
  opts: WriteSafetensorsOptions = {},
): Promise<void> {
  if (opts.metadata && !isStringRecord(opts.metadata)) {
    throw new UserError(`${path}: safetensors metadata values must be strings`);
  }
  // No prototype: a tensor named `__proto__` is an ordinary key here.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (opts.metadata && Object.keys(opts.metadata).length > 0) header.__metadata__ = opts.metadata;
  // Larger elements first keeps every tensor aligned to its element size.
  const names = [...tensors.keys()];
  const order = names
    .map((name, i) => ({ name, i, size: DTYPE_SIZE[dtypeFor(name, opts)] }))
    .sort((a, b) => b.size - a.size || a.i - b.i);
  let offset = 0;
  for (const { name, size } of order) {
    if (name === '__metadata__') throw new UserError(`${path}: '__metadata__' cannot be a tensor name`);
    const t = tensors.get(name)!;
    if (t.data.length !== numel(t.shape)) {
      throw new Error(`tensor '${name}': ${t.data.length} values do not fill shape ${shapeStr(t.shape)}`);
    }
    const nbytes = t.data.length * size;
    header[name] = { dtype: DTYPE_TO_TAG[dtypeFor(name, opts)], shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  const total = offset;
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const hbytes = Buffer.from(json, 'utf8');
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(hbytes.byteLength), true);
  await withAtomicFile(path, async (fh) => {
    await writeAll(fh, prefix);
    await writeAll(fh, hbytes);
    let done = 0;
    const CHUNK = 1 << 20; // elements per conversion chunk, bounds extra memory for float16
    for (const { name } of order) {
      const t = tensors.get(name)!;
      const dt = dtypeFor(name, opts);
      for (let i = 0; i < t.data.length; i += CHUNK) {
        const chunk = t.data.subarray(i, Math.min(t.data.length, i + CHUNK));
        const bytes = encodeFromFloat32(dt, chunk);
        await writeAll(fh, bytes);
        done += bytes.byteLength;
      }
      opts.onProgress?.(done, total);
    }
  });
}

/** True when the file's first bytes look like a safetensors header. */
export async function looksLikeSafetensors(path: string): Promise<boolean> {
  const size = (await stat(path)).size;
  if (size < 10) return false;
  const fh = await openForRead(path);
  try {
    const b = new Uint8Array(9);
    await readExactly(fh, b, 0, path);
    const n = new DataView(b.buffer).getBigUint64(0, true);
    return n >= 2n && n <= BigInt(size - 8) && b[8] === 0x7b; // '{'
  } finally {
    await fh.close();
  }
}
