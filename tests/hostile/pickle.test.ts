/**
 * Hostile pickles: code-execution payloads through every calling opcode, bombs of every opcode
 * that grows a structure, huge declared lengths, truncation at every byte, and a property-based
 * fuzz of byte mutations. Each must end in a one-line UserError of ours (never an internal error,
 * a native abort or a hang), and no payload may run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { UserError } from '../../src/core/errors.js';
import { resetLimits, setLimits } from '../../src/core/limits.js';
import { unpickle } from '../../src/io/pickle.js';
import { readTorch } from '../../src/io/pth.js';
import { StorageRef, torchGlobals } from '../../src/io/torch-pickle.js';
import { bytes, op, pickle, repeat, stateDictPickle, torchZip } from './craft.js';

const tmp = mkdtempSync(join(tmpdir(), 'hostile-pickle-'));
const MARKER = join(tmp, 'pwned');

/** Runs a pickle as data.pkl would be run (torch globals, storages as inert references). */
function run(pkl: Uint8Array): unknown {
  return unpickle(pkl, 0, { where: 'hostile.pkl', globals: torchGlobals(), persistentLoad: () => new StorageRef('0', 'float32', 6, 'cpu') }).value;
}

/** The error `fn` throws; fails the test when it returns or throws something not ours. */
function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
    expect(e.message.split('\n')).toHaveLength(1);
    return e;
  }
  throw new Error('expected an error');
}

async function readZipError(name: string, pkl: Uint8Array): Promise<UserError> {
  const file = join(tmp, name);
  writeFileSync(file, torchZip(pkl));
  try {
    await readTorch(file);
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
    expect(e.message.startsWith(file)).toBe(true);
    expect(e.message.split('\n')).toHaveLength(1);
    return e;
  }
  throw new Error('expected an error');
}

afterEach(() => resetLimits());

const shell = op.str(`touch ${MARKER}`);

describe('code-execution payloads are refused by name, through every calling opcode', () => {
  const payloads: Array<[string, Uint8Array, RegExp]> = [
    ['REDUCE of posix.system', pickle(op.global('posix', 'system'), op.mark(), shell, op.tuple(), op.reduce()), /refusing to call posix\.system/],
    ['REDUCE of os.system', pickle(op.global('os', 'system'), op.mark(), shell, op.tuple(), op.reduce()), /refusing to call os\.system/],
    ['STACK_GLOBAL builtins.eval', pickle(op.str('builtins'), op.str('eval'), op.stackGlobal(), op.mark(), op.str('1'), op.tuple(), op.reduce()), /refusing to call builtins\.eval/],
    ['INST subprocess.Popen', pickle(op.mark(), op.str('touch'), op.inst('subprocess', 'Popen')), /refusing to call subprocess\.Popen/],
    ['OBJ builtins.exec', pickle(op.mark(), op.global('builtins', 'exec'), op.str('import os'), op.obj()), /refusing to call builtins\.exec/],
    ['NEWOBJ_EX with keyword arguments', pickle(op.global('subprocess', 'Popen'), op.mark(), shell, op.tuple(), op.emptyDict(), op.mark(), op.str('shell'), bytes(0x88), op.setitems(), op.newobjEx()), /refusing to call subprocess\.Popen/],
    ['REDUCE inside a tensor rebuild', stateDictPickleWith(op.global('os', 'system'), op.mark(), shell, op.tuple(), op.reduce()), /refusing to call os\.system/],
    ['copyreg._reconstructor then REDUCE of its result', pickle(op.global('copyreg', '_reconstructor'), op.mark(), op.global('os', 'system'), op.global('builtins', 'object'), op.none(), op.tuple(), op.reduce(), op.mark(), op.tuple(), op.reduce()), /call of a value that is not a global/],
  ];

  it.each(payloads)('%s', async (name, pkl, msg) => {
    expect(userError(() => run(pkl)).message).toMatch(msg);
    expect((await readZipError(`${name.replace(/\W+/g, '_')}.pth`, pkl)).message).toMatch(msg);
  });

  it('BUILD and NEWOBJ without arguments only make inert placeholders (no state dict in them)', async () => {
    const pkl = pickle(op.global('os', 'system'), op.emptyTuple(), op.newobj(), op.emptyDict(), op.mark(), op.str('__setstate__'), shell, op.setitems(), op.build());
    expect(run(pkl)).toMatchObject({ cls: 'os.system' });
    expect((await readZipError('build.pth', pkl)).message).toMatch(/not a state dict|no tensors|pickled/);
  });

  it('ran none of them', () => {
    expect(existsSync(MARKER)).toBe(false);
  });
});

/** A one-tensor state dict whose storage argument is replaced by `storage`. */
function stateDictPickleWith(...storage: Uint8Array[]): Uint8Array {
  return pickle(
    op.emptyDict(), op.str('w'), op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark(), ...storage, op.int(0), op.mark(), op.int(1), op.tuple(), op.mark(), op.int(1), op.tuple(), op.newfalse(), op.tuple(),
    op.reduce(), op.setitem(),
  );
}

describe('bombs of every opcode that grows a structure stop at their limit, quickly', () => {
  const started = (): number => performance.now();
  const bombs: Array<[string, () => Uint8Array, Record<string, number>, RegExp]> = [
    // Real size for the cheap ones (the defaults), scaled-down limits for the rest.
    ['MARK (nesting)', () => pickle(repeat(op.mark(), 20_000)), {}, /limit pickle_marks=10000/],
    ['values left on the stack (BININT1)', () => pickle(repeat(op.int(1), 1_100_000)), {}, /limit pickle_stack=1000000/],
    ['DUP', () => pickle(op.int(1), repeat(op.dup(), 1_100_000)), {}, /limit pickle_stack=1000000/],
    ['APPEND', () => pickle(op.emptyList(), repeat(bytes(op.int(7), op.append()), 200_000)), { pickle_ops: 100_000 }, /limit pickle_ops=100000/],
    ['APPENDS of MARK runs', () => pickle(op.emptyList(), repeat(bytes(op.mark(), repeat(op.int(7), 50), op.appends()), 5_000)), { pickle_ops: 100_000 }, /limit pickle_ops=100000/],
    ['SETITEM', () => pickle(op.emptyDict(), repeat(bytes(op.int(7), op.int(8), op.setitem()), 100_000)), { pickle_ops: 100_000 }, /limit pickle_ops=100000/],
    ['MEMOIZE', () => pickle(op.int(1), repeat(op.memoize(), 20_000)), { pickle_memo: 10_000 }, /limit pickle_memo=10000/],
    ['LONG4 of 1 MB (quadratic to decode naively)', () => pickle(op.long4(new Uint8Array(1 << 20).fill(0x5a))), {}, /limit pickle_int_bytes=4096/],
    ['LONG text of 100k digits', () => pickle(op.longText('9'.repeat(100_000))), {}, /limit pickle_int_bytes=4096/],
    ['BINUNICODE declaring 4 GB', () => pickle(op.binunicodeLen(0xffff_ffff)), {}, /a 4294967295-byte string or bytes value/],
    ['bytes() of one memoized 1 MB value, copied 100 times', () => pickle(op.global('builtins', 'bytes'), op.memoize(), op.binbytes(new Uint8Array(1 << 20)), op.memoize(), op.emptyList(), repeat(bytes(op.binget(0), op.binget(1), op.tuple1(), op.reduce(), op.append()), 100)), {}, /counting the data its calls copy\) \(limit pickle_ops=50000000/],
    ['set() of one memoized list, copied again and again', () => pickle(op.global('builtins', 'set'), op.memoize(), op.emptyList(), op.mark(), repeat(op.int(1), 100_000), op.appends(), op.memoize(), op.emptyList(), repeat(bytes(op.binget(0), op.binget(1), op.tuple1(), op.reduce(), op.append()), 600)), {}, /limit pickle_ops=50000000/],
    ['torch.device of 200,000 nested tuples', () => pickle(op.global('torch', 'device'), op.none(), repeat(op.tuple1(), 200_000), op.tuple1(), op.reduce()), {}, /malformed torch\.device/],
    ['BINBYTES8 declaring 2^62 bytes', () => pickle(op.binbytes8Len(2n ** 62n)), {}, /runs past the data|truncated/],
  ];

  it.each(bombs)('%s', (_name, make, lims, msg) => {
    setLimits(lims);
    const pkl = make();
    const t0 = started();
    expect(userError(() => run(pkl)).message).toMatch(msg);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('the default limits stop a list bomb far below the memory it asks for', () => {
    // 17 M appends in batches (each batch within the stack limit): the list bound (2^24 − 1) stops it.
    const pkl = pickle(op.emptyList(), repeat(bytes(op.mark(), repeat(op.int(7), 1000), op.appends()), 17_000));
    const t0 = performance.now();
    expect(userError(() => run(pkl)).message).toMatch(/a list of more than 16777215 entries/);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});

describe('truncation at every byte of a real state-dict pickle', () => {
  const full = stateDictPickle([
    { name: 'a.weight', key: '0', numel: 6, offset: 0, size: [2, 3], stride: [3, 1] },
    { name: 'a.bias', key: '1', numel: 2, offset: 0, size: [2], stride: [1] },
  ], 'zip');

  it('parses whole', () => {
    expect(run(full)).toBeInstanceOf(Map);
  });

  it('every prefix ends in a UserError', () => {
    for (let n = 0; n < full.length; n++) userError(() => run(full.subarray(0, n)));
  });
});

describe('fuzz (fast-check, fixed seed): mutated pickles never raise anything but a UserError', () => {
  const seedPickle = stateDictPickle([
    { name: 'w', key: '0', numel: 4, offset: 0, size: [2, 2], stride: [2, 1] },
  ], 'zip');

  const outcome = (pkl: Uint8Array): void => {
    try {
      run(pkl);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
  };

  it('byte substitutions, insertions and deletions', () => {
    const edit = fc.record({
      at: fc.nat({ max: seedPickle.length - 1 }),
      kind: fc.constantFrom('set', 'insert', 'delete'),
      value: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
        let b = Array.from(seedPickle);
        for (const e of edits) {
          const at = Math.min(e.at, b.length);
          if (e.kind === 'set' && at < b.length) b[at] = e.value;
          else if (e.kind === 'insert') b.splice(at, 0, e.value);
          else b.splice(at, 1);
        }
        outcome(Uint8Array.from(b));
      }),
      { seed: 20261205, numRuns: 3000 },
    );
  });

  it('random opcode streams', () => {
    const opcodes = Array.from('()}]tR.2KJXhqMabseu\x85\x86\x87\x8a\x8b\x93\x94\x81\x92\x8c\x88\x89NQ', (c) => c.charCodeAt(0));
    const token = fc.oneof(fc.constantFrom(...opcodes), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(token, { maxLength: 64 }), (tokens) => outcome(bytes(op.proto(), Uint8Array.from(tokens), op.stop()))),
      { seed: 20261205, numRuns: 5000 },
    );
  });
});
