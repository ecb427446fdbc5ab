/**
 * The training loop on tiny recipes (wasm backend, synthetic data): resuming reaches the same
 * weights and optimiser state as an uninterrupted run; the live tensor count is the same after
 * every step; a stop request saves a checkpoint; bad work directories and corrupted checkpoints
 * give one-line errors; a checkpoint write that dies before its commit leaves the previous one
 * in place.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { writeSynthDataset } from '../../src/data/synth/write.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { listCheckpoints, readLatestCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { resolveRecipe } from '../../configs/index.js';
import { train, type TrainRunOptions } from '../../src/train/trainer.js';

const tmp = mkdtempSync(join(tmpdir(), 'convnext-train-'));
const DET = join(tmp, 'det');
const SEG = join(tmp, 'seg');

beforeAll(async () => {
  await writeSynthDataset({ task: 'det', out: DET, n: 6, size: 64, seed: 1 });
  await writeSynthDataset({ task: 'seg', out: SEG, n: 6, size: 64, seed: 1 });
});

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const c = await readLatestCheckpoint(dir);
  if (!c) throw new Error(`${dir}: no checkpoint`);
  const out = new Map<string, Float32Array>();
  for (const [k, v] of c.weights) out.set(`model.${k}`, v.data);
  for (const [k, v] of c.optimizer.tensors) out.set(`optim.${k}`, v.data);
  return out;
}

function run(recipe: string, data: string, workDir: string, extra: Partial<TrainRunOptions> = {}) {
  return train({ recipe: resolveRecipe(recipe), data, workDir, backend: 'wasm', ...extra });
}

describe.each([
  ['test_train_mask-rcnn', DET],
  ['test_train_cascade-mask-rcnn', DET],
  ['test_train_upernet', SEG],
])('%s', (recipe, data) => {
  it('resume reaches the same weights and optimiser state as an uninterrupted run; no tensor leaks', async () => {
    const full = join(tmp, `${recipe}-full`);
    const counts: number[] = [];
    const s = await run(recipe, data, full, { onStep: () => counts.push(tf.memory().numTensors) });
    expect(s.steps).toBe(4);
    expect(Number.isFinite(s.lastLoss)).toBe(true);
    // AdamW moments appear at the first update; after that the count stays put.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[0]).toBe(counts[1]);

    const split = join(tmp, `${recipe}-split`);
    const first = await run(recipe, data, split, { maxSteps: 3 });
    expect(first.steps).toBe(3);
    const second = await run(recipe, data, split, { resume: true });
    expect(second.ran).toBe(1);
    const a = await weightsOf(full);
    const b = await weightsOf(split);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(Array.from(b.get(k)!), k).toEqual(Array.from(v));
    const log = readFileSync(join(full, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(log.map((l) => l.step)).toEqual([1, 2, 3, 4]);
  });
});

describe('stopping, bad work directories and checkpoints', () => {
  it('a stop request after the first step saves a checkpoint of that step; resume goes on from it', async () => {
    const dir = join(tmp, 'stop');
    let steps = 0;
    const s = await run('test_train_upernet', SEG, dir, { onStep: () => steps++, shouldStop: () => steps >= 1 });
    expect(s.stopped).toBe(true);
    expect(s.steps).toBe(1);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([1]);
    const r = await run('test_train_upernet', SEG, dir, { resume: true, maxSteps: 2 });
    expect([r.steps, r.ran]).toEqual([2, 1]);
  });

  it('init_weights: a backbone-only file starts the backbone, the heads are initialised, the log says which', async () => {
    const src = join(tmp, 'stop');
    const c = await readLatestCheckpoint(src);
    if (!c) throw new Error('no checkpoint from the stop test');
    const backbone = new Map([...c.weights].filter(([k]) => k.startsWith('backbone.')));
    const file = join(tmp, 'backbone.safetensors');
    await writeSafetensors(file, backbone);
    const lines: string[] = [];
    const dir = join(tmp, 'init');
    await train({ recipe: resolveRecipe('test_train_upernet', [`init_weights=${file}`]), data: SEG, workDir: dir, backend: 'wasm', maxSteps: 1, log: (l) => lines.push(l) });
    const line = lines.find((l) => l.startsWith(`init weights ${file}: `)) ?? '';
    const m = /: (\d+) of (\d+) parameters loaded, (\d+) initialised \(decode_head\.\*, auxiliary_head\.\*\), 0 unused$/.exec(line);
    expect(m, lines.join('\n')).not.toBeNull();
    const [loaded, total, initialised] = m!.slice(1).map(Number);
    expect(loaded).toBe(backbone.size);
    expect(loaded + initialised).toBe(total);
  });

  it('init_weights as a list: files bound in order, each with its own key layout; the later file wins; the log names both', async () => {
    const c = await readLatestCheckpoint(join(tmp, 'stop'));
    if (!c) throw new Error('no checkpoint from the stop test');
    const full = join(tmp, 'full.safetensors');
    await writeSafetensors(full, c.weights);
    // The second file is a bare backbone (names without `backbone.`), every value 0.25.
    const bare = new Map([...c.weights].filter(([k]) => k.startsWith('backbone.')).map(([k, t]) => [k.slice('backbone.'.length), { shape: t.shape, data: new Float32Array(t.data.length).fill(0.25) }]));
    const second = join(tmp, 'backbone-bare.safetensors');
    await writeSafetensors(second, bare);
    const lines: string[] = [];
    const dir = join(tmp, 'init-list');
    // A learning rate of 1e-30 (0 is refused): the step's updates vanish below float32 rounding, so
    // the checkpoint holds the parameters as they were bound.
    const recipe = resolveRecipe('test_train_upernet', [`init_weights=${JSON.stringify([full, second])}`, 'optimizer.lr=1e-30']);
    await train({ recipe, data: SEG, workDir: dir, backend: 'wasm', maxSteps: 1, log: (l) => lines.push(l) });
    const line = lines.find((l) => l.startsWith(`init weights ${full} + ${second}: `)) ?? '';
    expect(line, lines.join('\n')).toMatch(new RegExp(`: ${c.weights.size} of ${c.weights.size} parameters loaded, 0 initialised, 0 unused$`));
    const after = await readLatestCheckpoint(dir);
    if (!after) throw new Error('no checkpoint after the step');
    let backbone = 0;
    for (const [k, t] of after.weights) {
      if (k.startsWith('backbone.')) {
        backbone++;
        expect(t.data.every((v) => v === 0.25), k).toBe(true);
      }
    }
    expect(backbone).toBe(bare.size);
    expect([...after.weights.get('decode_head.conv_seg.weight')!.data]).toEqual([...c.weights.get('decode_head.conv_seg.weight')!.data]);
    expect(() => resolveRecipe('test_train_upernet', ['init_weights=[]'])).toThrow(/init_weights: expected at least one file/);
    expect(() => resolveRecipe('test_train_upernet', ['init_weights=3'])).toThrow(/init_weights: expected a file or a list of files/);
  });

  it('refuses a work directory with checkpoints unless resuming, and a different model on resume', async () => {
    const dir = join(tmp, 'stop');
    await expect(run('test_train_upernet', SEG, dir)).rejects.toThrow(/already holds checkpoints \(latest step 2\): pass --resume/);
    await expect(run('test_train_upernet', SEG, dir, { resume: true, recipe: resolveRecipe('test_train_upernet', ['model.decode_head.channels=8']) }))
      .rejects.toThrow(/model config differs/);
  });

  it('corrupted checkpoints give one-line errors naming the file', async () => {
    const dir = join(tmp, 'corrupt');
    await run('test_train_upernet', SEG, dir, { maxSteps: 2 });
    const ck = join(dir, 'checkpoints', 'iter_000002');
    const model = join(ck, 'model.safetensors');
    const size = readFileSync(model).length;
    truncateSync(model, size - 100);
    const err = await run('test_train_upernet', SEG, dir, { resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/model\.safetensors: .*(truncated|past the end)/);
    expect((err as Error).message).not.toContain('\n');
    writeFileSync(join(ck, 'trainer.json'), '{"format": "convnext-trainer", "ver');
    await expect(run('test_train_upernet', SEG, dir, { resume: true })).rejects.toThrow(/trainer\.json: trainer state is not valid JSON .*corrupted/);
    writeFileSync(join(dir, 'checkpoints', 'latest.json'), '{"checkpoint": 5}');
    await expect(run('test_train_upernet', SEG, dir, { resume: true })).rejects.toThrow(/latest\.json: expected \{"checkpoint": "iter_NNNNNN"\}/);
  });

  it('a write that dies before its commit leaves the previous checkpoint and pointer intact', async () => {
    const dir = join(tmp, 'killed');
    await run('test_train_upernet', SEG, dir, { maxSteps: 2 });
    const before = await readLatestCheckpoint(dir);
    expect(before?.state.step).toBe(2);
    const state = { ...before!.state, step: 3 };
    await expect(saveCheckpoint(dir, before!.weights, before!.optimizer, state, {
      keep: 2,
      beforeCommit: () => {
        throw new Error('killed');
      },
    })).rejects.toThrow('killed');
    // The half-written checkpoint sits in a hidden temporary folder; nothing else changed.
    expect(readdirSync(join(dir, 'checkpoints')).filter((e) => e.startsWith('.tmp-'))).toHaveLength(1);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([2]);
    const after = await readLatestCheckpoint(dir);
    expect(after?.state.step).toBe(2);
    const w0 = (await readSafetensors(join(dir, 'checkpoints', 'iter_000002', 'model.safetensors'))).tensors;
    expect(w0.size).toBe(before!.weights.size);
    // Resuming works, and the next save clears the leftover.
    const r = await run('test_train_upernet', SEG, dir, { resume: true, maxSteps: 3 });
    expect(r.steps).toBe(3);
    expect(readdirSync(join(dir, 'checkpoints')).filter((e) => e.startsWith('.tmp-'))).toHaveLength(0);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([2, 3]);
  });

  it('a missing pointer with checkpoints present is reported', async () => {
    const dir = join(tmp, 'nopointer');
    mkdirSync(join(dir, 'checkpoints', 'iter_000004'), { recursive: true });
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/latest\.json is missing although/);
    rmSync(dir, { recursive: true });
    expect(existsSync(dir)).toBe(false);
  });
});
