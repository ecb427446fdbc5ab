/**
 * Builders of hostile and malformed inputs, made at test time: pickles opcode by opcode, PyTorch
 * zip and legacy checkpoints around them (with header fields that lie), safetensors files with
 * hand-written headers, and PNGs whose header claims what their data does not hold.
 */
import { crc32, deflateRawSync, deflateSync } from 'node:zlib';

/** Concatenates byte parts (numbers are single bytes, strings latin1). */
export function bytes(...parts: Array<number | string | Uint8Array>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'number' ? Uint8Array.of(p) : typeof p === 'string' ? Buffer.from(p, 'latin1') : p));
  return Buffer.concat(chunks);
}

const u32le = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const i32le = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
const u64le = (n: number | bigint): Uint8Array => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };

/** Pickle opcodes, each as the bytes it writes. */
export const op = {
  proto: (n = 2) => bytes(0x80, n),
  stop: () => bytes('.'),
  mark: () => bytes('('),
  none: () => bytes('N'),
  emptyDict: () => bytes('}'),
  emptyList: () => bytes(']'),
  emptyTuple: () => bytes(')'),
  tuple: () => bytes('t'),
  tuple1: () => bytes(0x85),
  tuple2: () => bytes(0x86),
  tuple3: () => bytes(0x87),
  int: (n: number) => (n >= 0 && n < 256 ? bytes('K', n) : bytes('J', i32le(n))),
  long4: (payload: Uint8Array) => bytes(0x8b, u32le(payload.length), payload),
  longText: (digits: string) => bytes('L', digits, '\n'),
  str: (s: string) => { const b = Buffer.from(s, 'utf8'); return bytes('X', u32le(b.length), b); },
  binunicodeLen: (declared: number) => bytes('X', u32le(declared)),
  binbytes8Len: (declared: bigint) => bytes(0x8e, u64le(declared)),
  global: (mod: string, name: string) => bytes('c', `${mod}\n${name}\n`),
  stackGlobal: () => bytes(0x93),
  reduce: () => bytes('R'),
  build: () => bytes('b'),
  inst: (mod: string, name: string) => bytes('i', `${mod}\n${name}\n`),
  obj: () => bytes('o'),
  newobj: () => bytes(0x81),
  newobjEx: () => bytes(0x92),
  setitem: () => bytes('s'),
  setitems: () => bytes('u'),
  append: () => bytes('a'),
  appends: () => bytes('e'),
  memoize: () => bytes(0x94),
  binget: (i: number) => bytes('h', i),
  binbytes: (b: Uint8Array) => bytes('B', u32le(b.length), b),
  dup: () => bytes('2'),
  binpersid: () => bytes('Q'),
  newfalse: () => bytes(0x89),
};

/** A pickle of `body` between PROTO 2 and STOP. */
export function pickle(...body: Uint8Array[]): Uint8Array {
  return bytes(op.proto(), ...body, op.stop());
}

/** `n` copies of a byte sequence, fast (for bombs of many opcodes). */
export function repeat(unit: Uint8Array, n: number): Uint8Array {
  const out = Buffer.alloc(unit.length * n);
  out.set(unit, 0);
  let filled = unit.length;
  while (filled < out.length) {
    const len = Math.min(filled, out.length - filled);
    out.copyWithin(filled, 0, len);
    filled += len;
  }
  return out;
}

/** One tensor of a crafted state dict: a float32 view of storage `key`. */
export interface CraftTensor {
  name: string;
  key: string;
  /** Elements the storage declares. */
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
  /** Legacy files only: a view of the root storage ('view key', offset, size). */
  view?: [string, number, number];
}

const tupleOf = (items: Uint8Array[]): Uint8Array => bytes(op.mark(), ...items, op.tuple());

/**
 * The pickle torch.save writes for a state dict of float32 tensors (`_rebuild_tensor_v2` over
 * persistent storage ids): zip layout ids (5 fields) or legacy ids (6, with a view).
 */
export function stateDictPickle(tensors: readonly CraftTensor[], layout: 'zip' | 'legacy'): Uint8Array {
  const items: Uint8Array[] = [];
  for (const t of tensors) {
    const pidFields = [op.str('storage'), op.global('torch', 'FloatStorage'), op.str(t.key), op.str('cpu'), op.int(t.numel)];
    if (layout === 'legacy') {
      pidFields.push(t.view ? tupleOf([op.str(t.view[0]), op.int(t.view[1]), op.int(t.view[2])]) : op.none());
    }
    items.push(
      op.str(t.name),
      op.global('torch._utils', '_rebuild_tensor_v2'),
      tupleOf([
        tupleOf(pidFields), op.binpersid(),
        op.int(t.offset),
        tupleOf(t.size.map(op.int)),
        tupleOf(t.stride.map(op.int)),
        op.newfalse(),
        op.global('collections', 'OrderedDict'), op.emptyTuple(), op.reduce(),
      ]),
      op.reduce(),
    );
  }
  return pickle(op.emptyDict(), op.mark(), ...items, op.setitems());
}

/** An entry of a crafted zip; the declared sizes may lie. */
export interface ZipEntryCraft {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Uncompressed size written in the headers (default: the true size). */
  declaredSize?: number;
}

/** A zip archive as torch writes it (or with lying headers): local headers, data, central directory. */
export function zip(entries: readonly ZipEntryCraft[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const size = e.declaredSize ?? e.data.length;
    const compressed = e.deflate ? body.length : size;
    const crc = crc32(e.data);
    const method = e.deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed >>> 0, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(compressed >>> 0, 20);
    c.writeUInt32LE(size >>> 0, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A torch zip checkpoint of `pkl` and raw storages (`archive/data.pkl`, `archive/data/<key>`). */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: Partial<Record<string, Partial<ZipEntryCraft>>> = {}): Uint8Array {
  const entries: ZipEntryCraft[] = [
    { name: 'archive/data.pkl', data: pkl, ...extra['data.pkl'] },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    ...Object.entries(storages).map(([k, d]) => ({ name: `archive/data/${k}`, data: d, ...extra[k] })),
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];
  return zip(entries);
}

/** A legacy (pre-zip) torch checkpoint: magic, protocol, sys info, object, keys, then storages. */
export function torchLegacy(pkl: Uint8Array, storages: Array<[string, Uint8Array]>): Uint8Array {
  const magic = pickle(bytes(0x8a, 10, Buffer.from('6cfc9c46f9206aa85019', 'hex')));
  const protocol = pickle(bytes('M', 0xe9, 0x03));
  const sys = pickle(op.emptyDict(), op.mark(), op.str('little_endian'), bytes(0x88), op.setitems());
  const keys = pickle(op.emptyList(), op.mark(), ...storages.map(([k]) => op.str(k)), op.appends());
  const data = storages.flatMap(([, d]) => [u64le(d.length / 4), d]);
  return bytes(magic, protocol, sys, pkl, keys, ...data);
}

/** float32 bytes of `values`. */
export function f32(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A safetensors file with a header written as given (text, not re-serialised) and data bytes. */
export function safetensorsRaw(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  return bytes(u64le(h.length), h, data);
}

/** One PNG chunk with its length and CRC. */
export function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const tb = Buffer.from(type, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([tb, body])));
  return bytes(len, tb, body, crc);
}

/**
 * A PNG whose IHDR says `width × height` (8-bit, colour type `colour`) over IDAT data of `rows`
 * zero rows: a decompression bomb when the header is large and the data small.
 */
export function pngClaiming(width: number, height: number, colour: 0 | 2 = 2, rows = 1): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colour;
  const stride = width * (colour === 2 ? 3 : 1) + 1;
  const raw = Buffer.alloc(Math.min(rows, height) * stride);
  return bytes(Buffer.from('89504e470d0a1a0a', 'hex'), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0)));
}
