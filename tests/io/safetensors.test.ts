import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, inspectSafetensors } from '../../src/io/safetensors.js';
import { UserError } from '../../src/core/errors.js';
import type { HostTensor } from '../../src/core/host-tensor.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'st-')); });

/** Builds a safetensors file by hand: u64 LE header length, JSON header, data. */
function build(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 tensors, metadata and order, atomically', async () => {
    const tensors = new Map<string, HostTensor>([
      ['b', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['a.weight', { shape: [1], data: Float32Array.from([-0.5]) }],
      ['scalar', { shape: [], data: Float32Array.from([7]) }],
    ]);
    const p = join(dir, 'rt.safetensors');
    await writeSafetensors(p, tensors, { metadata: { format: 'pt', note: 'x' } });
    const bytes = await readFile(p);
    const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0); // header padded to 8-byte alignment
    const r = await readSafetensors(p);
    expect([...r.tensors.keys()]).toEqual(['b', 'a.weight', 'scalar']);
    expect(r.tensors.get('b')).toEqual(tensors.get('b'));
    expect(r.tensors.get('scalar')!.shape).toEqual([]);
    expect(r.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(r.dtypes.get('b')).toBe('float32');
    // no temporary file left behind
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes float16 and int64 and reads them back', async () => {
    const tensors = new Map<string, HostTensor>([
      // 1/3 in float16 is 0x3555 = 0.333251953125 (10-bit mantissa, round to nearest)
      ['h', { shape: [3], data: Float32Array.from([1 / 3, 65504, -2]) }],
      ['n', { shape: [], data: Float32Array.from([123456]) }],
    ]);
    const p = join(dir, 'h.safetensors');
    await writeSafetensors(p, tensors, { dtype: 'float16', dtypes: new Map([['n', 'int64']]) });
    const info = await inspectSafetensors(p);
    expect(info.tensors).toEqual([
      { name: 'n', dtype: 'int64', shape: [] },
      { name: 'h', dtype: 'float16', shape: [3] },
    ]);
    const r = await readSafetensors(p, { keepDtype: true });
    expect(Array.from(r.tensors.get('h')!.data)).toEqual([0.333251953125, 65504, -2]);
    expect(r.tensors.get('n')!.data[0]).toBe(123456);
    expect(Array.from(new Uint16Array(r.raw!.get('h')!.bytes.slice().buffer))).toEqual([0x3555, 0x7bff, 0xc000]);
  });

  it('decodes every real dtype of the format from hand-made bytes', async () => {
    const parts: Array<[string, string, number[], number[]]> = [
      // name, tag, shape, raw bytes (little endian); expected values in the test below
      ['bf', 'BF16', [2], [0x80, 0x3f, 0xc0, 0xbf]], // 0x3f80 = 1.0, 0xbfc0 = -1.5
      ['f64', 'F64', [1], [...new Uint8Array(Float64Array.from([0.25]).buffer)]],
      ['i64', 'I64', [1], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]], // -2
      ['u64', 'U64', [1], [5, 0, 0, 0, 0, 0, 0, 0]],
      ['i32', 'I32', [1], [0xff, 0xff, 0xff, 0xff]], // -1
      ['u32', 'U32', [1], [0xff, 0xff, 0xff, 0xff]], // 4294967295
      ['i16', 'I16', [1], [0x00, 0x80]], // -32768
      ['u16', 'U16', [1], [0x00, 0x80]], // 32768
      ['i8', 'I8', [1], [0x80]], // -128
      ['u8', 'U8', [1], [0x80]], // 128
      ['b', 'BOOL', [2], [0, 1]],
      ['e4m3', 'F8_E4M3', [3], [0x38, 0x7e, 0x01]], // 1.0 (e=7), 448 (max), 2^-9 (subnormal)
      ['e5m2', 'F8_E5M2', [2], [0x3c, 0x7c]], // 1.0, +inf (top byte of float16)
      ['e8m0', 'F8_E8M0', [2], [127, 130]], // 2^0, 2^3
    ];
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const data: number[] = [];
    for (const [name, tag, shape, raw] of parts) {
      header[name] = { dtype: tag, shape, data_offsets: [data.length, data.length + raw.length] };
      data.push(...raw);
    }
    const p = join(dir, 'all.safetensors');
    await writeFile(p, build(header, Uint8Array.from(data)));
    const r = await readSafetensors(p);
    const v = (k: string): number[] => Array.from(r.tensors.get(k)!.data);
    expect(v('bf')).toEqual([1, -1.5]);
    expect(v('f64')).toEqual([0.25]);
    expect(v('i64')).toEqual([-2]);
    expect(v('u64')).toEqual([5]);
    expect(v('i32')).toEqual([-1]);
    expect(v('u32')).toEqual([4294967296]); // 2^32-1 rounds to 2^32 in float32
    expect(v('i16')).toEqual([-32768]);
    expect(v('u16')).toEqual([32768]);
    expect(v('i8')).toEqual([-128]);
    expect(v('u8')).toEqual([128]);
    expect(v('b')).toEqual([0, 1]);
    expect(v('e4m3')).toEqual([1, 448, 2 ** -9]);
    expect(v('e5m2')).toEqual([1, Infinity]);
    expect(v('e8m0')).toEqual([1, 8]);
    expect(r.dtypes.get('e4m3')).toBe('float8_e4m3fn');
  });

  it('rejects malformed files with the file name and the problem', async () => {
    const bad = async (name: string, bytes: Uint8Array, msg: RegExp): Promise<void> => {
      const p = join(dir, name);
      await writeFile(p, bytes);
      const err = await readSafetensors(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toContain(p);
      expect((err as Error).message).toMatch(msg);
    };
    await bad('short.safetensors', Uint8Array.from([1, 2]), /not a safetensors file/);
    await bad('huge.safetensors', build({}, new Uint8Array()).map((b, i) => (i === 7 ? 0x7f : b)), /header length/);
    await bad('json.safetensors', (() => { const b = build({ a: 1 }, new Uint8Array()); b[8] = 0x5b; return b; })(), /not valid JSON/);
    await bad('dtype.safetensors', build({ x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype 'Q4'/);
    await bad('c64.safetensors', build({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /C64/);
    await bad('span.safetensors', build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /'x'.*needs 8/);
    await bad('trunc.safetensors', build({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /past the end/);
    const missing = await readSafetensors(join(dir, 'nope.safetensors')).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/nope\.safetensors: file not found$/);
  });
});
