/**
 * Hostile and malformed checkpoints: zip entries whose headers lie, storages viewed out of their
 * bounds, views that amplify a few stored bytes into gigabytes, and safetensors files that break
 * the reference reader's layout rules. Each ends in a one-line UserError naming the file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { resetLimits, setLimits } from '../../src/core/limits.js';
import { readTorch } from '../../src/io/pth.js';
import { parseSafetensorsHeader, readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import fc from 'fast-check';
import { type CraftTensor, f32, safetensorsRaw, stateDictPickle, torchLegacy, torchZip, zip } from './craft.js';

const tmp = mkdtempSync(join(tmpdir(), 'hostile-ckpt-'));
afterEach(() => resetLimits());

async function errorOf(file: string, read: (f: string) => Promise<unknown>): Promise<string> {
  const t0 = performance.now();
  try {
    await read(file);
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String((e as Error).stack ?? e)}`);
    expect(e.message.startsWith(file), e.message).toBe(true);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(5000);
    return e.message;
  }
  throw new Error(`${file}: expected an error`);
}

const put = (name: string, data: Uint8Array): string => {
  const file = join(tmp, name);
  writeFileSync(file, data);
  return file;
};

/** A one-tensor state dict whose storage class is `torch.<name>`. */
function craftedStorageType(name: string): Uint8Array {
  const text = Buffer.from(stateDictPickle([tensor({})], 'zip'));
  return Buffer.from(text.toString('latin1').replace('torch\nFloatStorage\n', `torch\n${name}\n`), 'latin1');
}

const tensor = (over: Partial<CraftTensor>): CraftTensor => ({ name: 'w', key: '0', numel: 4, offset: 0, size: [4], stride: [1], ...over });

describe('zip checkpoints', () => {
  it('a well-formed crafted file reads (the builders are right)', async () => {
    const file = put('ok.pth', torchZip(stateDictPickle([tensor({ size: [2, 2], stride: [2, 1] })], 'zip'), { 0: f32([1, 2, 3, 4]) }));
    const r = await readTorch(file);
    expect(Array.from(r.tensors.get('w')!.data)).toEqual([1, 2, 3, 4]);
  });

  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['stride 0 over one float, 2^24 elements', () => torchZip(stateDictPickle([tensor({ numel: 1, size: [2 ** 24], stride: [0] })], 'zip'), { 0: f32([1]) }), /1 tensors hold 16777216 elements in views of only 1 stored elements \(limit tensor_amplification=64/],
    ['65 free-sized views of one float', () => torchZip(stateDictPickle(Array.from({ length: 65 }, (_, i) => tensor({ name: `t${i}`, numel: 1, size: [2 ** 20], stride: [0] })), 'zip'), { 0: f32([1]) }), /65 tensors hold 68157440 elements in views of only 1 stored elements \(limit tensor_amplification/],
    ['deflated storage declaring 2 GiB', () => torchZip(stateDictPickle([tensor({ numel: 2 ** 29 })], 'zip'), { 0: new Uint8Array(1024) }, { 0: { deflate: true, declaredSize: 2 ** 31 } }), /declares 2147483648 bytes \(limit zip_inflate_bytes/],
    ['deflated storage longer than declared', () => torchZip(stateDictPickle([tensor({})], 'zip'), { 0: new Uint8Array(1 << 20) }, { 0: { deflate: true, declaredSize: 16 } }), /zip entry 'archive\/data\/0'/],
    ['stored storage declaring more than the file holds', () => torchZip(stateDictPickle([tensor({ numel: 2 ** 20 })], 'zip'), { 0: f32([1, 2, 3, 4]) }, { 0: { declaredSize: 2 ** 22 } }), /zip entry|truncated|declares/],
    ['view past its storage', () => torchZip(stateDictPickle([tensor({ offset: 2, size: [4] })], 'zip'), { 0: f32([1, 2, 3, 4]) }), /runs past its storage of 4 elements/],
    ['negative offset', () => torchZip(stateDictPickle([tensor({ offset: -1 })], 'zip'), { 0: f32([1, 2, 3, 4]) }), /offset/],
    ['negative size', () => torchZip(stateDictPickle([tensor({ size: [-4] })], 'zip'), { 0: f32([1, 2, 3, 4]) }), /size/],
    ['data.pkl declaring 2 GiB', () => torchZip(stateDictPickle([tensor({})], 'zip'), { 0: f32([1, 2, 3, 4]) }, { 'data.pkl': { deflate: true, declaredSize: 2 ** 31 } }), /declares 2147483648 bytes/],
    ['a storage type named after an Object member (torch.constructor)', () => torchZip(craftedStorageType('constructor'), { 0: f32([1, 2, 3, 4]) }), /unknown storage type/],
    ['a tensor of 100 dimensions (copying it would cost elements × rank)', () => torchZip(stateDictPickle([tensor({ numel: 1, size: Array(100).fill(1), stride: Array(100).fill(0) })], 'zip'), { 0: f32([1]) }), /size of 100 dimensions \(at most 64\)/],
    ['two zip entries of one name (torch reads the first)', () => zip([{ name: 'archive/data.pkl', data: stateDictPickle([tensor({})], 'zip') }, { name: 'archive/data/0', data: f32([1, 2, 3, 4]) }, { name: 'archive/data/0', data: f32([5, 6, 7, 8]) }]), /two entries named 'archive\/data\/0'/],
    ['storage key leaving the archive', () => torchZip(stateDictPickle([tensor({ key: '../../etc/passwd' })], 'zip'), {}), /points outside the archive/],
  ];
  it.each(cases)('%s', async (name, make, msg) => {
    expect(await errorOf(put(`${name.replace(/\W+/g, '_')}.pth`, make()), readTorch)).toMatch(msg);
  });

  it('2^28 + 1 elements in one tensor (with the amplification limit raised out of the way)', async () => {
    setLimits({ tensor_amplification: 1e12 });
    const file = put('elements.pth', torchZip(stateDictPickle([tensor({ numel: 1, size: [2 ** 14, 2 ** 14 + 1], stride: [0, 0] })], 'zip'), { 0: f32([1]) }));
    expect(await errorOf(file, readTorch)).toMatch(/size \[16384, 16385\] has 268451840 elements \(limit tensor_elements=268435456/);
  });

  it('one view expanding its storage 65 times', async () => {
    const file = put('one-view.pth', torchZip(stateDictPickle([
      tensor({ name: 'big', key: '0', numel: 2 ** 16, size: [65, 2 ** 16], stride: [0, 1] }),
      tensor({ name: 'pad', key: '1', numel: 2 ** 20 * 2, size: [2 ** 21], stride: [1] }),
    ], 'zip'), { 0: new Uint8Array(2 ** 18), 1: new Uint8Array(2 ** 23) }));
    expect(await errorOf(file, readTorch)).toMatch(/expands 65536 stored elements to 4259840 \(limit tensor_amplification=64/);
  });

  it('truncated at every 97th byte: always a UserError', async () => {
    const full = torchZip(stateDictPickle([tensor({ size: [2, 2], stride: [2, 1] })], 'zip'), { 0: f32([1, 2, 3, 4]) });
    for (let n = 1; n < full.length; n += 97) await errorOf(put(`cut-${n}.pth`, full.subarray(0, n)), readTorch);
  });
});

describe('legacy checkpoints: storage views stay inside their storage', () => {
  const legacy = (t: Partial<CraftTensor>): Uint8Array => torchLegacy(stateDictPickle([tensor({ numel: 4, ...t })], 'legacy'), [['0', f32([1, 2, 3, 4])]]);

  it('a well-formed view reads', async () => {
    const r = await readTorch(put('legacy-ok.pth', legacy({ view: ['v', 1, 2], size: [2] })));
    expect(Array.from(r.tensors.get('w')!.data)).toEqual([2, 3]);
  });

  const cases: Array<[string, Partial<CraftTensor>, RegExp]> = [
    ['negative view offset (would read the pickle before the storage)', { view: ['v', -8, 4] }, /storage view 'v' \(offset -8, size 4\) lies outside its storage '0' of 4 elements/],
    ['negative view size', { view: ['v', 0, -1] }, /storage view 'v' \(offset 0, size -1\) lies outside/],
    ['view past the end', { view: ['v', 3, 2], size: [2] }, /storage view 'v' \(offset 3, size 2\) lies outside/],
  ];
  it.each(cases)('%s', async (name, t, msg) => {
    expect(await errorOf(put(`${name.replace(/\W+/g, '_')}.pth`, legacy(t)), readTorch)).toMatch(msg);
  });

  it('70 views, each of the whole root, count the root once (70× amplification)', async () => {
    const n = 2 ** 15;
    const views = Array.from({ length: 70 }, (_, i) => tensor({ name: `t${i}`, numel: n, size: [n], view: [`v${i}`, 0, n] }));
    const file = put('legacy-views.pth', torchLegacy(stateDictPickle(views, 'legacy'), [['0', new Uint8Array(4 * n)]]));
    expect(await errorOf(file, readTorch)).toMatch(/70 tensors hold 2293760 elements in views of only 32768 stored elements \(limit tensor_amplification=64/);
  });
});

describe('safetensors: validated like the reference reader', () => {
  const entry = (dtype: string, shape: number[], off: [number, number]): string => JSON.stringify({ dtype, shape, data_offsets: off });
  const cases: Array<[string, string, Uint8Array, RegExp]> = [
    ['overlapping tensors', `{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [2], [4, 12])}}`, new Uint8Array(12), /'b' \(data_offsets \[4, 12\]\) overlaps the tensor before it/],
    ['a gap between tensors', `{"a":${entry('F32', [1], [0, 4])},"b":${entry('F32', [1], [8, 12])}}`, new Uint8Array(12), /leaves a gap of 4 bytes/],
    ['trailing bytes', `{"a":${entry('F32', [1], [0, 4])}}`, new Uint8Array(8), /cover 4 bytes of a 8-byte data block/],
    ['a duplicate key', `{"a":${entry('F32', [1], [0, 4])},"a":${entry('F32', [1], [0, 4])}}`, new Uint8Array(4), /has the key 'a' twice/],
    ['a header that is an array', '[1, 2]', new Uint8Array(0), /not a JSON object/],
    ['a header that is not JSON', '{"a": ', new Uint8Array(0), /not valid JSON/],
    ['offsets past the file', `{"a":${entry('F32', [4], [0, 16])}}`, new Uint8Array(4), /past the end of the data block/],
    ['offsets reversed', `{"a":${entry('F32', [1], [4, 0])}}`, new Uint8Array(4), /span -4 bytes/],
    ['a shape that overflows', `{"a":${entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 4])}}`, new Uint8Array(4), /is too large|span/],
    ['a negative dimension', `{"a":${entry('F32', [-1], [0, 4])}}`, new Uint8Array(4), /non-negative integers/],
    ['an unknown dtype', `{"a":${entry('Q7', [1], [0, 4])}}`, new Uint8Array(4), /unknown dtype 'Q7'/],
    ['metadata that is not strings', `{"__metadata__":{"k":1},"a":${entry('F32', [1], [0, 4])}}`, new Uint8Array(4), /__metadata__ must map strings to strings/],
  ];
  it.each(cases)('%s', async (name, header, data, msg) => {
    expect(await errorOf(put(`${name.replace(/\W+/g, '_')}.safetensors`, safetensorsRaw(header, data)), (f) => readSafetensors(f))).toMatch(msg);
  });

  it('a header length of 2^60, or longer than the file', async () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
    expect(await errorOf(put('huge-header.safetensors', huge), (f) => readSafetensors(f))).toMatch(/header length 1152921504606846976 does not fit/);
  });

  it('a tensor named __proto__ is written and read back as a plain key', async () => {
    const file = join(tmp, 'proto.safetensors');
    const tensors = new Map([['__proto__', { shape: [2], data: Float32Array.of(1, 2) }], ['constructor', { shape: [1], data: Float32Array.of(3) }]]);
    await writeSafetensors(file, tensors);
    const r = await readSafetensors(file);
    expect([...r.tensors.keys()].sort()).toEqual(['__proto__', 'constructor']);
    expect(Array.from(r.tensors.get('__proto__')!.data)).toEqual([1, 2]);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

describe('fuzz (fast-check, fixed seed): the safetensors header parser', () => {
  /** Parses; a result must tile the data block, anything refused must be a one-line UserError. */
  const check = (header: Uint8Array, dataSize: number): void => {
    let r;
    try {
      r = parseSafetensorsHeader(header, dataSize, 'fuzz.safetensors');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      expect(e.message.split('\n')).toHaveLength(1);
      return;
    }
    const spans = r.entries.map((e) => e.offsets).sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [b, end] of spans) {
      expect(b).toBe(at);
      at = end;
    }
    expect(at).toBe(dataSize);
  };
  const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');

  it('generated headers: dtypes, shapes, offsets and key names of every kind', () => {
    const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', '__metadata__', 'a', 'b', ''), fc.string());
    const dim = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e300, 0.5));
    const entry = fc.oneof(
      fc.record({
        dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'BOOL', 'constructor', '__proto__', 'F4'), fc.string()),
        shape: fc.array(dim, { maxLength: 4 }),
        data_offsets: fc.array(fc.oneof(fc.integer({ min: -4, max: 64 }), fc.constantFrom(2 ** 53)), { minLength: 0, maxLength: 3 }),
      }),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, entry), { maxLength: 5 }), fc.integer({ min: 0, max: 64 }), (pairs, dataSize) => {
        // Written by hand so duplicate keys and __proto__ reach the parser as text.
        const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
        check(enc(text), dataSize);
      }),
      { seed: 20261205, numRuns: 3000 },
    );
  });

  it('byte mutations of a valid header', () => {
    const valid = enc(JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2, 2], data_offsets: [8, 16] } }));
    check(valid, 16);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = Uint8Array.from(valid);
        for (const [at, v] of edits) b[at] = v;
        check(b, 16);
      }),
      { seed: 20261205, numRuns: 3000 },
    );
  });
});
