/**
 * Fault benchmark: SIGKILL at random moments during training (checkpoints every 2 steps) and
 * during a folder run of `detect`, then resume / rerun and verify that nothing is half-written.
 *
 *   npx tsx tools/fault.ts [--kills 8] [--seed 1] [--keep DIR]
 *
 * Training: the tiny Mask R-CNN recipe (test_train_mask-rcnn, raised to 24 steps) on 16 synthetic
 * images; each round starts `train` (with --resume after the first), kills it after a random
 * 1–6 s, then checks every checkpoint folder that `latest.json` names or that exists: the three
 * files parse (both safetensors files, trainer.json) and latest.json points at a whole checkpoint.
 * A last run completes; its final step must be the recipe's max_steps.
 * Folder runs: `detect --image DIR` over 24 images, killed after a random 0.5–4 s, then every
 * output present is checked (PNGs decode, JSON parses); a rerun must then write every output.
 * Reported: kills, clean resumes, corrupt files (must be 0), stray temporary files left by killed
 * writers (harmless: never read, named .<name>.<pid>.<random>.tmp).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { readSafetensors } from '../src/io/safetensors.js';

const BIN = fileURLToPath(new URL('../bin/convnext.js', import.meta.url));
const { values: args } = parseArgs({ options: { kills: { type: 'string', default: '8' }, seed: { type: 'string', default: '1' }, keep: { type: 'string' } } });
const KILLS = Number(args.kills);
let state = Number(args.seed) >>> 0 || 1;
const rand = (): number => { state = (state * 1664525 + 1013904223) >>> 0; return state / 2 ** 32; };
const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'convnext-fault-'));

const cli = (a: string[]): void => { execFileSync(process.execPath, [BIN, ...a], { stdio: 'ignore' }); };

/** Starts the CLI and SIGKILLs it after `ms` (or lets it end); resolves with how it ended. */
function runAndKill(a: string[], ms: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...a], { stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (_code, signal) => { clearTimeout(timer); resolve(signal === 'SIGKILL' ? 'killed' : 'finished'); });
  });
}

const strays = (folder: string): number => (existsSync(folder) ? readdirSync(folder, { recursive: true }).filter((f) => String(f).endsWith('.tmp')).length : 0);

/** Checks every checkpoint of a work dir; returns [whole, corrupt] counts. */
async function checkCheckpoints(work: string): Promise<[number, number]> {
  const ck = join(work, 'checkpoints');
  if (!existsSync(ck)) return [0, 0];
  let whole = 0;
  let corrupt = 0;
  for (const d of readdirSync(ck).filter((f) => f.startsWith('iter_'))) {
    try {
      await readSafetensors(join(ck, d, 'model.safetensors'));
      await readSafetensors(join(ck, d, 'optimizer.safetensors'));
      JSON.parse(readFileSync(join(ck, d, 'trainer.json'), 'utf8'));
      whole++;
    } catch {
      // A folder without its files is a checkpoint being written when the kill came: fine only
      // if latest.json does not name it.
      const latest = existsSync(join(ck, 'latest.json')) ? JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8')) as { checkpoint: string } : null;
      if (latest?.checkpoint === d) corrupt++;
    }
  }
  if (existsSync(join(ck, 'latest.json'))) {
    try {
      JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8'));
    } catch {
      corrupt++;
    }
  }
  return [whole, corrupt];
}

async function training(): Promise<void> {
  const data = join(dir, 'train-data');
  const work = join(dir, 'work');
  cli(['synth', '--task', 'det', '--out', data, '--n', '16', '--size', '64', '--seed', '3', '--overwrite']);
  const base = ['train', '--config', 'test_train_mask-rcnn', '--data', data, '--work-dir', work, '--backend', 'cpu', '--set', 'max_steps=24', '--set', 'schedule.max_iters=24'];
  let kills = 0;
  let corrupt = 0;
  for (let k = 0; k < KILLS; k++) {
    const how = await runAndKill(k === 0 ? base : [...base, '--resume'], 1000 + rand() * 5000);
    if (how === 'killed') kills++;
    const [, bad] = await checkCheckpoints(work);
    corrupt += bad;
    if (how === 'finished') break;
  }
  cli([...base, '--resume']);
  const [whole, bad] = await checkCheckpoints(work);
  corrupt += bad;
  const latest = JSON.parse(readFileSync(join(work, 'checkpoints', 'latest.json'), 'utf8')) as { step: number };
  console.log(`training: ${kills} SIGKILLs, then a clean resume to step ${latest.step} of 24; ${whole} whole checkpoints kept, ${corrupt} corrupt; ${strays(work)} stray .tmp files`);
}

async function folderRun(): Promise<void> {
  const data = join(dir, 'detect-data');
  const out = join(dir, 'detect-out');
  cli(['synth', '--task', 'det', '--out', data, '--n', '24', '--size', '160', '--seed', '5', '--overwrite']);
  const a = ['detect', '--config', 'demo_mask-rcnn_convnext-synth', '--weights', fileURLToPath(new URL('../assets/demo/mask-rcnn_convnext-synth.safetensors', import.meta.url)), '--image', join(data, 'images'), '--out', out];
  let kills = 0;
  let corrupt = 0;
  let checked = 0;
  for (let k = 0; k < KILLS; k++) {
    if ((await runAndKill(a, 500 + rand() * 3500)) === 'killed') kills++;
    for (const f of existsSync(out) ? readdirSync(out) : []) {
      if (f.endsWith('.tmp')) continue;
      checked++;
      try {
        if (f.endsWith('.png')) await sharp(join(out, f)).raw().toBuffer();
        else if (f.endsWith('.json')) JSON.parse(readFileSync(join(out, f), 'utf8'));
      } catch {
        corrupt++;
      }
    }
  }
  cli(a);
  const outputs = readdirSync(out).filter((f) => !f.endsWith('.tmp'));
  console.log(`folder run: ${kills} SIGKILLs, ${checked} output files checked after kills, ${corrupt} corrupt; the rerun wrote ${outputs.length} files for 24 images; ${strays(out)} stray .tmp files`);
}

console.log(`fault: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}; work in ${dir}`);
await training();
await folderRun();
if (!args.keep) rmSync(dir, { recursive: true, force: true });
