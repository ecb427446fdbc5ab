/**
 * `convnext synth --task det|seg --out DIR --n N [--seed S] [--size 256]`: writes a deterministic
 * synthetic dataset of shapes (COCO instance JSON for det, label maps for seg).
 */
import { type Command, Option } from 'commander';
import { UserError } from '../../core/errors.js';
import { SHAPE_KINDS, type ShapeKind } from '../../data/synth/shapes.js';
import { type SynthSummary, type SynthTask, writeSynthDataset } from '../../data/synth/write.js';
import { positiveInt } from '../common.js';
import { progress } from '../progress.js';
import { DESCRIPTIONS } from './descriptions.js';

export interface SynthFlags {
  task: SynthTask;
  out: string;
  n: number;
  seed?: number;
  size?: number;
  kinds?: string;
  minObjects?: number;
  maxObjects?: number;
  minSize?: number;
  maxSize?: number;
  overwrite?: boolean;
}

/** Shows progress from this many images on. */
const PROGRESS_FROM = 50;

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} expects a non-negative integer, got '${v}'`);
    return n;
  };
}

function fraction(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!(x > 0 && x <= 1)) throw new UserError(`${name} expects a fraction of the image side in (0, 1], got '${v}'`);
    return x;
  };
}

function parseKinds(list: string): ShapeKind[] {
  const kinds = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(SHAPE_KINDS as readonly string[]).includes(k)) throw new UserError(`--kinds: unknown shape '${k}' (known: ${SHAPE_KINDS.join(', ')})`);
  }
  return kinds as ShapeKind[];
}

/** Runs the command; `stream` receives progress and the summary line (stderr by default). */
export async function runSynth(f: SynthFlags, stream: NodeJS.WriteStream = process.stderr): Promise<SynthSummary> {
  const bar = f.n >= PROGRESS_FROM ? progress(`synth ${f.task}`, f.n, { unit: 'images', stream }) : null;
  let summary: SynthSummary;
  try {
    summary = await writeSynthDataset({
      task: f.task, out: f.out, n: f.n, seed: f.seed, size: f.size, overwrite: f.overwrite,
      kinds: f.kinds ? parseKinds(f.kinds) : undefined, minObjects: f.minObjects, maxObjects: f.maxObjects,
      minSize: f.minSize, maxSize: f.maxSize,
      onProgress: (done) => bar?.update(done),
    });
  } finally {
    bar?.stop();
  }
  stream.write(`wrote ${summary.images} images with ${summary.objects} shapes (${summary.kinds.join(', ')}) to ${f.out}; index ${summary.index}\n`);
  return summary;
}

export function register(program: Command): void {
  program
    .command('synth')
    .description(DESCRIPTIONS['synth'])
    .addOption(new Option('--task <task>', 'dataset kind').choices(['det', 'seg']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder (images/ and annotations.json, or images/, annotations/ and classes.json)')
    .requiredOption('--n <count>', 'number of images', positiveInt('--n'))
    .option('--seed <s>', 'random seed (same seed → same files)', nonNegativeInt('--seed'), 0)
    .option('--size <px>', 'image side in pixels', positiveInt('--size'), 256)
    .option('--kinds <list>', `comma-separated shape kinds (${SHAPE_KINDS.join(', ')}; default circle,square,triangle,star)`)
    .option('--min-objects <n>', 'fewest shapes per image', nonNegativeInt('--min-objects'))
    .option('--max-objects <n>', 'most shapes per image', positiveInt('--max-objects'))
    .option('--min-size <x>', 'smallest shape diameter as a fraction of the image side (default 0.12)', fraction('--min-size'))
    .option('--max-size <x>', 'largest shape diameter as a fraction of the image side (default 0.45)', fraction('--max-size'))
    .option('--overwrite', 'replace an existing dataset in --out')
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: SynthFlags) => {
      await runSynth(f);
    });
}
