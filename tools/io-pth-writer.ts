/**
 * A minimal writer of PyTorch checkpoints (zip and legacy formats) for float32 state dicts, so
 * that benchmarks can make ~100 MB files without Python. It writes what `torch.save` writes for an
 * `OrderedDict` of contiguous float32 tensors (pickle protocol 2, `_rebuild_tensor_v2`,
 * `('storage', torch.FloatStorage, key, 'cpu', numel)` persistent ids); `torch.load` reads the
 * files. Not part of the library: tools only.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { HostTensor } from '../src/core/host-tensor.js';

/** Pickle protocol 2 byte builder with the handful of opcodes a state dict needs. */
class PickleBuilder {
  private parts: number[] = [];
  op(...b: number[]): this { this.parts.push(...b); return this; }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24);
    for (const x of b) this.parts.push(x);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4); b.writeInt32LE(n);
    return this.op(0x4a, ...b);
  }
  global(mod: string, name: string): this {
    this.op(0x63);
    for (const x of Buffer.from(`${mod}\n${name}\n`, 'latin1')) this.parts.push(x);
    return this;
  }
  tuple(items: number[]): this {
    this.op(0x28);
    for (const i of items) this.int(i);
    return this.op(0x74);
  }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

function contiguousStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** The pickle of an OrderedDict state dict; storage keys are '0', '1', ... in order. */
function stateDictPickle(tensors: Map<string, HostTensor>, legacy: boolean): Uint8Array {
  const p = new PickleBuilder().op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52, 0x28);
  let key = 0;
  for (const [name, t] of tensors) {
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28).str('storage').global('torch', 'FloatStorage').str(String(key++)).str('cpu').int(t.data.length);
    if (legacy) p.op(0x4e); // view_metadata None
    p.op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0).tuple(t.shape).tuple(contiguousStride(t.shape)).op(0x89);
    p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52); // hooks, TUPLE, REDUCE
  }
  return p.op(0x75, 0x2e).bytes(); // SETITEMS, STOP
}

async function writeAll(fh: FileHandle, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.byteLength) off += (await fh.write(b, off, b.byteLength - off)).bytesWritten;
}

const u16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

/** Writes a torch >= 1.6 zip checkpoint (stored entries, data aligned to 64 bytes as torch does). */
export async function writeTorchZip(path: string, tensors: Map<string, HostTensor>): Promise<void> {
  const entries: Array<{ name: string; data: Uint8Array }> = [
    { name: 'archive/data.pkl', data: stateDictPickle(tensors, false) },
  ];
  let key = 0;
  for (const t of tensors.values()) {
    entries.push({ name: `archive/data/${key++}`, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  }
  entries.push({ name: 'archive/version', data: Buffer.from('3\n') });
  const fh = await open(path, 'w');
  try {
    let pos = 0;
    const central: number[] = [];
    for (const e of entries) {
      const name = Buffer.from(e.name, 'utf8');
      const pad = (64 - ((pos + 30 + name.length + 4) % 64)) % 64;
      const extra = [...u16(0xfb), ...u16(pad), ...new Array<number>(pad).fill(0x5a)];
      const crc = crc32(e.data);
      const common = [...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(crc), ...u32(e.data.byteLength), ...u32(e.data.byteLength), ...u16(name.length)];
      const local = Uint8Array.from([...u32(0x04034b50), ...u16(20), ...common, ...u16(extra.length), ...name, ...extra]);
      central.push(...u32(0x02014b50), ...u16(20), ...u16(20), ...common, ...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(pos), ...name);
      await writeAll(fh, local);
      await writeAll(fh, e.data);
      pos += local.byteLength + e.data.byteLength;
    }
    const cd = Uint8Array.from(central);
    await writeAll(fh, cd);
    await writeAll(fh, Uint8Array.from([...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(entries.length), ...u16(entries.length),
      ...u32(cd.byteLength), ...u32(pos), ...u16(0)]));
  } finally {
    await fh.close();
  }
}

/** Writes a legacy (`_use_new_zipfile_serialization=False`) checkpoint. */
export async function writeTorchLegacy(path: string, tensors: Map<string, HostTensor>): Promise<void> {
  const magic = new PickleBuilder().op(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e).bytes();
  const proto = new PickleBuilder().op(0x80, 2).int(1001).op(0x2e).bytes();
  const sys = new PickleBuilder().op(0x80, 2, 0x7d, 0x28).str('protocol_version').int(1001).str('little_endian').op(0x88)
    .str('type_sizes').op(0x7d, 0x28).str('short').int(2).str('int').int(4).str('long').int(4).op(0x75, 0x75, 0x2e).bytes();
  const keys = new PickleBuilder().op(0x80, 2, 0x5d, 0x28);
  for (let i = 0; i < tensors.size; i++) keys.str(String(i));
  const fh = await open(path, 'w');
  try {
    for (const b of [magic, proto, sys, stateDictPickle(tensors, true), keys.op(0x65, 0x2e).bytes()]) await writeAll(fh, b);
    for (const t of tensors.values()) {
      const n = Buffer.alloc(8); n.writeBigInt64LE(BigInt(t.data.length));
      await writeAll(fh, n);
      await writeAll(fh, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  } finally {
    await fh.close();
  }
}
