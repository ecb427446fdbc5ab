import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PickleObject, PickleTruncated, isTuple, unpickle } from '../../src/io/pickle.js';
import { UserError } from '../../src/core/errors.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'io');
/** Pickles written by CPython's pickle.dumps at protocols 0..5 (tools/fixtures/gen_io_fixtures.py). */
const plain = JSON.parse(readFileSync(join(FIX, 'plain_pickles.json'), 'utf8')) as Record<string, string>;

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const run = (bytes: Uint8Array): unknown => unpickle(bytes, 0, { where: 'test.pkl' }).value;
const errorOf = (bytes: Uint8Array): Error => {
  try { run(bytes); } catch (e) { return e as Error; }
  throw new Error('expected an error');
};

describe('restricted unpickler: Python data at every protocol', () => {
  for (const [proto, h] of Object.entries(plain)) {
    it(proto, () => {
      const v = run(hex(h));
      expect(v).toBeInstanceOf(Map);
      const m = v as Map<string, unknown>;
      expect(m.get('s')).toBe('h\u00e9llo \u2603');
      // ints beyond 2^53 come back as bigint
      expect(m.get('i')).toEqual([0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, 2n ** 62n, -(2n ** 70n)]);
      expect(m.get('f')).toEqual([1.5, -0, 1e300, Infinity]);
      expect(Object.is((m.get('f') as number[])[1], -0)).toBe(true);
      expect(m.get('b')).toEqual(Uint8Array.from([0, 255]));
      const t = m.get('t') as readonly unknown[];
      expect(isTuple(t)).toBe(true);
      expect(t).toEqual([1, [2, 3]]);
      expect(isTuple(t[1])).toBe(true);
      expect(m.get('n')).toBeNull();
      expect(m.get('bool')).toEqual([true, false]);
      expect(m.get('set')).toEqual(new Set([7]));
      expect(m.get('fs')).toEqual(new Set([8]));
      expect(m.get('ba')).toEqual(Uint8Array.from([97, 98]));
      const shared = m.get('shared') as unknown[][];
      expect(shared[0]).toBe(shared[1]); // memo keeps identity
      expect(m.get('od')).toEqual(new Map([['x', 1], ['y', 2]]));
    });
  }
});

describe('restricted unpickler: refusals', () => {
  // Hand-assembled pickles; opcodes named in comments.
  const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

  it('refuses GLOBAL os.system + REDUCE, naming the global', () => {
    // PROTO 2, GLOBAL 'os\nsystem\n', SHORT_BINUNICODE 'id', TUPLE1, REDUCE, STOP
    const b = Uint8Array.from([0x80, 2, 0x63, ...ascii('os\nsystem\n'), 0x8c, 2, ...ascii('id'), 0x85, 0x52, 0x2e]);
    const e = errorOf(b);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/^test\.pkl: refusing to call os\.system/);
  });

  it('maps Python 2 module names and refuses builtins.eval via STACK_GLOBAL', () => {
    // PROTO 4, SHORT_BINUNICODE '__builtin__', SHORT_BINUNICODE 'eval', STACK_GLOBAL, ... REDUCE
    const b = Uint8Array.from([0x80, 4, 0x8c, 11, ...ascii('__builtin__'), 0x8c, 4, ...ascii('eval'), 0x93,
      0x8c, 1, ...ascii('1'), 0x85, 0x52, 0x2e]);
    expect(errorOf(b).message).toMatch(/refusing to call builtins\.eval/);
  });

  it('refuses INST/OBJ with arguments (a call) but keeps argument-less instances as placeholders', () => {
    // MARK, SHORT_BINUNICODE 'rm -rf', INST 'subprocess\ncall\n', STOP
    const inst = Uint8Array.from([0x28, 0x8c, 6, ...ascii('rm -rf'), 0x69, ...ascii('subprocess\ncall\n'), 0x2e]);
    expect(errorOf(inst).message).toMatch(/refusing to call subprocess\.call/);
    // MARK, INST 'argparse\nNamespace\n', EMPTY_DICT, SHORT_BINUNICODE 'lr', BININT1 3, SETITEM, BUILD, STOP
    const ns = Uint8Array.from([0x28, 0x69, ...ascii('argparse\nNamespace\n'), 0x7d, 0x8c, 2, ...ascii('lr'), 0x4b, 3, 0x73, 0x62, 0x2e]);
    const v = run(ns);
    expect(v).toBeInstanceOf(PickleObject);
    expect((v as PickleObject).cls).toBe('argparse.Namespace');
    expect((v as PickleObject).state).toEqual(new Map([['lr', 3]]));
  });

  it('refuses NEWOBJ_EX with keyword arguments, EXT opcodes, out-of-band buffers and persistent ids', () => {
    // GLOBAL 'os\nsystem\n', EMPTY_TUPLE, EMPTY_DICT + 1 item, NEWOBJ_EX
    const nx = Uint8Array.from([0x80, 4, 0x63, ...ascii('os\nsystem\n'), 0x29, 0x7d, 0x8c, 1, ...ascii('a'), 0x4b, 1, 0x73, 0x92, 0x2e]);
    expect(errorOf(nx).message).toMatch(/refusing to call os\.system/);
    expect(errorOf(Uint8Array.from([0x80, 2, 0x82, 1, 0x2e])).message).toMatch(/extension registry/);
    expect(errorOf(Uint8Array.from([0x80, 5, 0x97, 0x2e])).message).toMatch(/out-of-band/);
    expect(errorOf(Uint8Array.from([0x80, 2, 0x4b, 1, 0x51, 0x2e])).message).toMatch(/persistent id without a loader/);
  });

  it('reports malformed and truncated input', () => {
    expect(errorOf(Uint8Array.from([0x80, 2, 0xff])).message).toMatch(/unknown opcode 0xff/);
    expect(errorOf(Uint8Array.from([0x80, 2, 0x30, 0x2e])).message).toMatch(/stack underflow/);
    expect(errorOf(Uint8Array.from([0x80, 2, 0x68, 9, 0x2e])).message).toMatch(/memo key 9/);
    const t = errorOf(Uint8Array.from([0x80, 2, 0x58, 100, 0, 0, 0, 0x41]));
    expect(t).toBeInstanceOf(PickleTruncated);
    expect(t.message).toMatch(/truncated/);
  });
});
