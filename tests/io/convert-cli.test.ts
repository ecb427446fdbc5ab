import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/cli/commands/convert.js';
import { formatInspect } from '../../src/cli/commands/inspect.js';
import { inspectWeights, loadWeights } from '../../src/io/load-weights.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { withAtomicFile } from '../../src/io/atomic.js';
import { floatToHalfBits, halfBitsToFloat } from '../../src/io/dtypes.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'io');
const run = promisify(execFile);
let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'convert-')); });

describe('convert', () => {
  it('writes canonical keys that load back as `canonical` with the same values', async () => {
    const out = join(dir, 'tv.safetensors');
    const lines: string[] = [];
    const src = await convertCheckpoint(join(FIX, 'layout_torchvision.pth'), out, { log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/layout_torchvision\.pth \(torchvision\): 65 tensors, 1,928 parameters/);
    const back = await loadWeights(out);
    expect(back.source).toBe('canonical');
    expect([...back.tensors.keys()]).toEqual([...src.tensors.keys()]);
    for (const [k, t] of src.tensors) expect(back.tensors.get(k)!.data).toEqual(t.data);
    const st = await readSafetensors(out);
    expect(st.metadata).toMatchObject({ 'convnext.layout': 'canonical', 'convnext.source': 'torchvision' });
  });

  it('--dtype float16 rounds floats to half and keeps integer tensors as int64', async () => {
    const out = join(dir, 'seg16.safetensors');
    const src = await convertCheckpoint(join(FIX, 'layout_mmseg.pth'), out, { dtype: 'float16', log: () => undefined });
    const st = await readSafetensors(out);
    expect(st.dtypes.get('decode_head.conv_seg.weight')).toBe('float16');
    expect(st.dtypes.get('decode_head.bottleneck.bn.num_batches_tracked')).toBe('int64');
    expect(st.tensors.get('decode_head.bottleneck.bn.num_batches_tracked')!.data[0]).toBe(1234);
    const w = src.tensors.get('backbone.stages.0.0.grn.gamma')!;
    const h = st.tensors.get('backbone.stages.0.0.grn.gamma')!;
    expect(h.shape).toEqual([1, 1, 1, 8]);
    expect(Array.from(h.data)).toEqual(Array.from(w.data, (v) => halfBitsToFloat(floatToHalfBits(v))));
  });

  it('a failed conversion leaves an existing output untouched and no temporary file', async () => {
    const out = join(dir, 'keep.safetensors');
    await writeFile(out, 'OLD');
    await expect(convertCheckpoint(join(FIX, 'evil_system.pth'), out, { log: () => undefined })).rejects.toThrow(/posix\.system/);
    await expect(convertCheckpoint(join(FIX, 'truncated_zip.pth'), out, { log: () => undefined })).rejects.toThrow(/truncated/);
    expect(await readFile(out, 'utf8')).toBe('OLD');
    await expect(withAtomicFile(out, async (fh) => { await fh.write('NEW PARTIAL'); throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(await readFile(out, 'utf8')).toBe('OLD');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('inspect lists layout, wrapper, parameter count and tensors', async () => {
    const text = formatInspect(await inspectWeights(join(FIX, 'layout_official_v2.pth')));
    expect(text).toMatch(/^layout: +official$/m);
    expect(text).toMatch(/^wrapper: +model +\[top-level keys: model\]$/m);
    expect(text).toMatch(/^parameters: 2,054$/m);
    expect(text).toMatch(/^stages\.0\.0\.grn\.gamma +float32 +\[1, 1, 1, 8\]$/m);
  });

  it('the CLI: one-line error, exit code 2 and no output file for a malicious checkpoint', async () => {
    const bin = join(ROOT, 'bin', 'convnext.js');
    const out = join(dir, 'evil.safetensors');
    const err = await run(process.execPath, [bin, 'convert', join(FIX, 'evil_eval_legacy.pth'), out], { cwd: ROOT })
      .then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim()).toMatch(/^error: .*evil_eval_legacy\.pth \(object pickle\): refusing to call builtins\.eval: /);
    expect((await readdir(dir)).includes('evil.safetensors')).toBe(false);
  });
});
