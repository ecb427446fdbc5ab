import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectTorch, openTorch, readTorch } from '../../src/io/pth.js';
import { PickleObject } from '../../src/io/pickle.js';
import { UserError } from '../../src/core/errors.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'io');
const f = (name: string): string => join(FIX, name);

/** Values as torch 1.13 reads them, converted to float (tools/fixtures/gen_io_fixtures.py). */
const expected = JSON.parse(readFileSync(f('basic_expected.json'), 'utf8')) as
  Record<string, { dtype: string; shape: number[]; values: number[] }>;

const errorOf = async (p: Promise<unknown>): Promise<Error> => {
  try { await p; } catch (e) { return e as Error; }
  throw new Error('expected an error');
};

describe.each(['basic_zip.pth', 'basic_legacy.pth'])('%s (written by torch.save)', (file) => {
  it('reads every dtype, offset, stride, shared and tied storage like torch', async () => {
    const r = await readTorch(f(file));
    expect(r.format).toBe(file.includes('zip') ? 'zip' : 'legacy');
    expect(r.wrapper).toBeNull();
    expect([...r.tensors.keys()]).toEqual(Object.keys(expected));
    for (const [name, e] of Object.entries(expected)) {
      const t = r.tensors.get(name)!;
      expect(t.shape, name).toEqual(e.shape);
      expect(r.dtypes.get(name), name).toBe(e.dtype);
      // float32 conversion of each reference value (int64 2^40 and float64 round exactly so)
      expect(Array.from(t.data), name).toEqual(e.values.map((v) => Math.fround(v)));
    }
    // a tied tensor is a separate copy: writing one must not change the other
    r.tensors.get('tied')!.data[0] = 42;
    expect(r.tensors.get('f32')!.data[0]).not.toBe(42);
  });

  it('inspects names, dtypes and shapes without reading storages', async () => {
    const info = await inspectTorch(f(file));
    expect(info.tensors.find((t) => t.name === 'half_t')).toEqual({ name: 'half_t', dtype: 'float16', shape: [4, 2] });
    expect(info.tensors.find((t) => t.name === 'bf16')).toEqual({ name: 'bf16', dtype: 'bfloat16', shape: [4] });
    expect(info.tensors).toHaveLength(Object.keys(expected).length);
  });
});

describe('wrappers', () => {
  it('official training checkpoint: takes `model`, keeps `args` Namespace as inert data', async () => {
    const r = await readTorch(f('wrapper_official.pth'));
    expect(r.wrapper).toBe('model');
    expect(Array.from(r.tensors.get('a')!.data)).toEqual([1, 2]);
    const ema = await readTorch(f('wrapper_official.pth'), { wrapper: 'model_ema' });
    expect(Array.from(ema.tensors.get('a')!.data)).toEqual([10, 20]);
    const ar = await openTorch(f('wrapper_official.pth'));
    const args = (ar.value as Map<string, unknown>).get('args');
    await ar.close();
    expect(args).toBeInstanceOf(PickleObject);
    expect((args as PickleObject).cls).toBe('argparse.Namespace');
    expect(((args as PickleObject).state as Map<string, unknown>).get('model')).toBe('convnext_tiny');
  });

  it('mmcv checkpoint: `state_dict` with `module.` prefixes, numpy scalars in meta', async () => {
    const r = await readTorch(f('wrapper_mmcv.pth'));
    expect(r.wrapper).toBe('state_dict');
    expect([...r.tensors.keys()]).toEqual(['a', 'b']);
    const ar = await openTorch(f('wrapper_mmcv.pth'));
    const meta = (ar.value as Map<string, unknown>).get('meta') as Map<string, unknown>;
    await ar.close();
    expect(meta.get('best_score')).toBe(0.462);
    expect(meta.get('seed')).toBe(42);
    expect(meta.get('CLASSES')).toEqual(['person', 'car']);
  });

  it('ema wrapper and a wrapper that is asked for but absent', async () => {
    expect((await readTorch(f('wrapper_ema.pth'))).wrapper).toBe('ema');
    const e = await errorOf(readTorch(f('wrapper_ema.pth'), { wrapper: 'model' }));
    expect(e.message).toMatch(/no state dict under 'model' \(top-level keys: ema\)/);
  });
});

describe('bad input: a clear error naming the file and the problem, nothing executed', () => {
  const cases: Array<[string, RegExp]> = [
    ['evil_system.pth', /refusing to call posix\.system/],
    ['evil_eval_legacy.pth', /refusing to call builtins\.eval/],
    ['truncated_zip.pth', /not a valid PyTorch zip checkpoint .*truncated/],
    ['truncated_legacy.pth', /truncated file\?/],
    ['wrong_magic.pth', /not a PyTorch checkpoint \(unknown magic bytes 47 47 55 46\)/],
    ['storage_outside.pth', /storage key '\.\.\/\.\.\/\.\.\/etc\/passwd' points outside the archive/],
    ['storage_missing.pth', /storage '7' is not in the archive/],
    ['module_pickle.pth', /pickled torch\.nn\.modules\.linear\.Linear object, not a state dict/],
    ['does_not_exist.pth', /: file not found$/],
  ];
  it.each(cases)('%s', async (name, msg) => {
    const e = await errorOf(readTorch(f(name)));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message.startsWith(f(name))).toBe(true);
    expect(e.message).toMatch(msg);
    expect(e.message.split('\n')).toHaveLength(1);
  });
  it('never ran the payloads', () => {
    expect(existsSync('/tmp/convnext-pwned')).toBe(false);
  });
});
