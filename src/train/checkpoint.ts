/**
 * Training checkpoints in a work directory:
 *
 *   checkpoints/iter_000500/model.safetensors      the model's weights (loadable with --weights)
 *   checkpoints/iter_000500/optimizer.safetensors  AdamW moments (exp_avg.*, exp_avg_sq.*)
 *   checkpoints/iter_000500/trainer.json           step, RNG state, optimiser JSON state, recipe, best metric
 *   checkpoints/latest.json                        {"checkpoint": "iter_000500", "step": 500}
 *
 * A checkpoint is written into a hidden temporary folder which is renamed into place once all
 * three files are complete and synced, then `latest.json` is replaced atomically. A run killed
 * at any moment therefore leaves the previous checkpoint and pointer intact; leftovers of an
 * interrupted write are removed by the next save. Older checkpoints beyond `keep` are deleted.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import type { WeightMap } from '../core/weights.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { OptimizerState } from './optim/adamw.js';

/** The JSON part of a checkpoint. */
export interface TrainerState {
  format: 'convnext-trainer';
  version: 1;
  /** Completed optimiser steps. */
  step: number;
  /** State of the training generator (sampling, drop path). */
  rng: number;
  optimizer: OptimizerState['json'];
  /** The recipe with its model config inlined. */
  recipe: Record<string, unknown>;
  /** Best evaluation so far. */
  best?: { metric: string; value: number; step: number };
  /** Wall time spent training so far (seconds). */
  elapsed: number;
}

export interface Checkpoint {
  dir: string;
  weights: WeightMap;
  optimizer: OptimizerState;
  state: TrainerState;
}

export function checkpointName(step: number): string {
  return `iter_${String(step).padStart(6, '0')}`;
}

function checkpointsDir(workDir: string): string {
  return join(workDir, 'checkpoints');
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await fh.close();
  }
}

export interface SaveOptions {
  /** Checkpoints to keep (older are deleted). */
  keep: number;
  /** Test hook: runs after the files are written, before the checkpoint is committed. */
  beforeCommit?: () => Promise<void> | void;
}

/** Writes a checkpoint of `step` and points `latest.json` at it; returns its folder. */
export async function saveCheckpoint(workDir: string, weights: WeightMap, optimizer: OptimizerState, state: TrainerState, opts: SaveOptions): Promise<string> {
  const root = checkpointsDir(workDir);
  await mkdir(root, { recursive: true });
  for (const e of readdirSync(root)) if (e.startsWith('.tmp-')) await rm(join(root, e), { recursive: true, force: true });
  const name = checkpointName(state.step);
  const tmp = join(root, `.tmp-${name}-${process.pid}`);
  await mkdir(tmp);
  await writeSafetensors(join(tmp, 'model.safetensors'), weights, { metadata: { format: 'convnext-trainer', step: String(state.step) } });
  await writeSafetensors(join(tmp, 'optimizer.safetensors'), optimizer.tensors);
  await writeFileAtomic(join(tmp, 'trainer.json'), `${JSON.stringify({ ...state, optimizer: optimizer.json }, null, 1)}\n`);
  await syncDir(tmp);
  await opts.beforeCommit?.();
  const final = join(root, name);
  if (existsSync(final)) await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await syncDir(root);
  await writeFileAtomic(join(root, 'latest.json'), `${JSON.stringify({ checkpoint: name, step: state.step })}\n`);
  const all = listCheckpoints(workDir);
  for (const old of all.slice(0, Math.max(0, all.length - opts.keep))) {
    if (old.name !== name) await rm(join(root, old.name), { recursive: true, force: true });
  }
  return final;
}

/** Complete checkpoint folders by step, ascending. */
export function listCheckpoints(workDir: string): Array<{ name: string; step: number }> {
  const root = checkpointsDir(workDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => ({ name, m: /^iter_(\d+)$/.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ name: e.name, step: Number(e.m[1]) }))
    .sort((a, b) => a.step - b.step);
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserError(`${file}: ${what} is not valid JSON (${(e as Error).message}); the checkpoint is corrupted`);
  }
}

function checkState(s: unknown, file: string): TrainerState {
  const o = s as Partial<TrainerState> | null;
  if (!o || typeof o !== 'object' || o.format !== 'convnext-trainer' || o.version !== 1) throw new UserError(`${file}: not a convnext trainer state (format/version)`);
  if (!Number.isInteger(o.step) || (o.step as number) < 0) throw new UserError(`${file}: step must be a non-negative integer`);
  if (!Number.isInteger(o.rng)) throw new UserError(`${file}: rng must be an integer`);
  if (!o.optimizer || typeof o.optimizer !== 'object') throw new UserError(`${file}: optimizer state missing`);
  if (!o.recipe || typeof o.recipe !== 'object') throw new UserError(`${file}: recipe missing`);
  return o as TrainerState;
}

/** Reads one checkpoint folder (a UserError naming the file when anything is missing or corrupted). */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  if (!existsSync(dir)) throw new UserError(`${dir}: checkpoint folder does not exist`);
  const stateFile = join(dir, 'trainer.json');
  const state = checkState(readJson(stateFile, 'trainer state'), stateFile);
  const weights = (await readSafetensors(join(dir, 'model.safetensors'))).tensors;
  const tensors: Map<string, HostTensor> = (await readSafetensors(join(dir, 'optimizer.safetensors'))).tensors;
  return { dir, weights, optimizer: { json: state.optimizer, tensors }, state };
}

/** The checkpoint `latest.json` points to, or null when the work directory has none. */
export async function readLatestCheckpoint(workDir: string): Promise<Checkpoint | null> {
  const pointer = join(checkpointsDir(workDir), 'latest.json');
  if (!existsSync(pointer)) {
    if (listCheckpoints(workDir).length > 0) throw new UserError(`${pointer} is missing although ${checkpointsDir(workDir)} holds checkpoints; the work directory is corrupted`);
    return null;
  }
  const p = readJson(pointer, 'checkpoint pointer') as { checkpoint?: unknown } | null;
  if (!p || typeof p.checkpoint !== 'string' || !/^iter_\d+$/.test(p.checkpoint)) throw new UserError(`${pointer}: expected {"checkpoint": "iter_NNNNNN"}`);
  return readCheckpoint(join(checkpointsDir(workDir), p.checkpoint));
}
