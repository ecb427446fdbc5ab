/**
 * `convnext train` through the real CLI: a one-step run (plain progress lines when stderr is not a
 * terminal, log.jsonl, a checkpoint), and one-line errors for bad input.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthDataset } from '../../src/data/synth/write.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'convnext-train-cli-'));
const DET = join(tmp, 'det');
const SEG = join(tmp, 'seg');

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

function expectOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  await writeSynthDataset({ task: 'det', out: DET, n: 2, size: 64, seed: 3 });
  await writeSynthDataset({ task: 'seg', out: SEG, n: 2, size: 64, seed: 3 });
});

describe('convnext train', () => {
  it('runs, logs and checkpoints', async () => {
    const work = join(tmp, 'run');
    const r = await cli(['train', '--config', 'test_train_upernet', '--data', SEG, '--work-dir', work, '--max-steps', '1', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/train test_train_upernet: 1\/1 steps .* step 1\/1 loss \d+\.\d+ \(decode \d+\.\d+ aux \d+\.\d+\) lr /);
    expect(r.stderr).toMatch(/finished at step 1 .*checkpoint .*iter_000001/);
    const log = JSON.parse(readFileSync(join(work, 'log.jsonl'), 'utf8').trim()) as Record<string, number>;
    expect(log.step).toBe(1);
    expect(log['decode.loss_ce']).toBeGreaterThan(0);
    expect(existsSync(join(work, 'checkpoints', 'iter_000001', 'model.safetensors'))).toBe(true);
  });

  it('SIGINT saves a checkpoint of the last completed step and exits', async () => {
    const work = join(tmp, 'sigint');
    const child = spawn(process.execPath, [BIN, 'train', '--config', 'test_train_upernet', '--data', SEG, '--work-dir', work, '--max-steps', '100000', '--backend', 'wasm']);
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && /steps .*step \d+\//.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    const m = /stopped at step (\d+) .*checkpoint (\S+)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(existsSync(join(m![2], 'model.safetensors'))).toBe(true);
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
  });

  it('bad input: unknown recipe, missing data, annotation with a missing image, bad override', async () => {
    const work = join(tmp, 'bad');
    expectOneLineError(await cli(['train', '--config', 'demo_upernet_synt', '--data', SEG, '--work-dir', work]), /unknown config 'demo_upernet_synt'/);
    expectOneLineError(await cli(['train', '--config', 'test_train_upernet', '--data', join(tmp, 'nowhere'), '--work-dir', work]), /nowhere.*(images\/ and annotations\/|no such file)/);
    const ann = JSON.parse(readFileSync(join(DET, 'annotations.json'), 'utf8')) as { images: Array<{ file_name: string }> };
    ann.images[0].file_name = 'gone.png';
    const file = join(tmp, 'gone.json');
    writeFileSync(file, JSON.stringify(ann));
    expectOneLineError(await cli(['train', '--config', 'test_train_mask-rcnn', '--data', file, '--images', join(DET, 'images'), '--work-dir', work]),
      /gone\.json: images\[0\] \(id 1\) refers to .*gone\.png, which does not exist/);
    expectOneLineError(await cli(['train', '--config', 'test_train_upernet', '--data', SEG, '--work-dir', work, '--set', 'optimizer.lr=-1']), /optimizer\.lr/);
  });
});
