/**
 * Bad input through the real CLI: one line on stderr naming what is wrong, non-zero exit,
 * no stack trace unless --verbose.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { FIXTURES } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const W = join(FIXTURES, 'backbone', 'tv_v1.weights.safetensors');
const IO = join(FIXTURES, 'backbone', 'tv_v1.io.safetensors');
const CFG = 'test_convnext-t-narrow_cls10';
const tmp = mkdtempSync(join(tmpdir(), 'convnext-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function expectOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('convnext CLI bad input', () => {
  it('unknown config lists close names', async () => {
    expectOneLineError(await cli(['config', 'show', 'convnext-tiny']), /unknown config 'convnext-tiny' \(did you mean .*convnext-t_in1k/);
  });

  it('bad override names the key path', async () => {
    expectOneLineError(await cli(['config', 'show', 'convnext-t_in1k', '--set', 'backbone.depth=3']), /backbone: unknown key\(s\) 'depth'/);
  });

  it('weights with a missing key name the key', async () => {
    const { readSafetensors } = await import('../../src/io/safetensors.js');
    const { tensors } = await readSafetensors(W);
    tensors.delete('stages.2.4.pwconv1.weight');
    const file = join(tmp, 'missing.safetensors');
    await writeSafetensors(file, tensors);
    expectOneLineError(await cli(['features', '-c', CFG, '-w', file, '--tensor', IO, '-o', join(tmp, 'o.safetensors')]), /missing 1 parameter\(s\): stages\.2\.4\.pwconv1\.weight/);
  });

  it('weights with a wrong shape name the key and both shapes', async () => {
    const { readSafetensors } = await import('../../src/io/safetensors.js');
    const { tensors } = await readSafetensors(W);
    tensors.set('stages.0.0.gamma', { shape: [9], data: new Float32Array(9) });
    const file = join(tmp, 'shape.safetensors');
    await writeSafetensors(file, tensors);
    expectOneLineError(await cli(['features', '-c', CFG, '-w', file, '--tensor', IO, '-o', join(tmp, 'o.safetensors')]), /shape mismatch for stages\.0\.0\.gamma: checkpoint has \[9\], model expects \[8\]/);
  });

  it('unreadable image names the file', async () => {
    const bad = join(tmp, 'broken.jpg');
    writeFileSync(bad, 'not an image at all');
    expectOneLineError(await cli(['classify', '-c', CFG, '-w', W, '--image', bad]), /broken\.jpg: cannot read image/);
    expectOneLineError(await cli(['classify', '-c', CFG, '-w', W, '--image', join(tmp, 'nope.png')]), /--image \S*nope\.png: no such file or folder/);
  });

  it('wrong tensor rank names the file and the shape', async () => {
    const file = join(tmp, 'rank3.safetensors');
    await writeSafetensors(file, new Map([['x', { shape: [3, 64, 64], data: new Float32Array(3 * 64 * 64) }]]));
    expectOneLineError(await cli(['features', '-c', CFG, '-w', W, '--tensor', file, '-o', join(tmp, 'o.safetensors')]), /rank3\.safetensors: tensor 'x' has rank 3 \[3, 64, 64\]; expected rank 4/);
  });

  it('--verbose shows the stack', async () => {
    const r = await cli(['config', 'show', 'convnext-tiny', '--verbose']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
