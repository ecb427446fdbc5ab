/**
 * `convnext segment`: semantic segmentation of an image or a folder of images. Per image it
 * writes `<name>.labels.png` (class index per pixel, grayscale), `<name>.overlay.png` (palette
 * colours blended into the image) and `<name>.json` (classes present with pixel fractions).
 * Files that cannot be read are listed at the end (exit code 2); the others are still processed.
 */
import { type Command, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { SegmentorConfig } from '../../config/segmentor.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readRgb } from '../../io/image.js';
import { Segmentor } from '../../tasks/segmentation/segmentor.js';
import { classShares } from '../../tasks/segmentation/segmentor-classes.js';
import { labelPng, overlayPng } from '../../tasks/segmentation/segmentor-output.js';
import { SegmentorPredictor } from '../../tasks/segmentation/segmentor-predict.js';
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, readModelFile, weightsFor } from '../common.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import { progress } from '../progress.js';
import { imageFiles, outputStems } from '../../io/image-files.js';
import { DESCRIPTIONS } from './descriptions.js';
import { createSegmentorPredictor } from '../../tasks/segmentation/segmentor-engine.js';

export interface SegmentFlags extends ModelFlags {
  image: string[];
  out: string;
  mode?: 'whole' | 'slide';
  tta?: boolean;
  opacity: number;
  overlay: boolean;
}

/** The segmentor config of the flags (a UserError when the config is another model type). */
export function segmentorConfig(f: ModelFlags): SegmentorConfig {
  const cfg = configFromFlags(f);
  if (cfg.type !== 'segmentor') throw new UserError(`config ${f.config} is a ${cfg.type}, not a segmentor (try an upernet_* config)`);
  return cfg;
}

function parseOpacity(v: string): number {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new UserError(`--opacity expects a number in [0, 1], got '${v}'`);
  return x;
}

/** Segments every image of `f.image` into `f.out`; returns the files that failed with why. */
export async function segmentImages(f: SegmentFlags): Promise<Array<{ file: string; error: string }>> {
  checkModelFlags(f);
  const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
  const cfg = onnx ? onnx.config : segmentorConfig(f);
  if (cfg.type !== 'segmentor') throw new UserError(`model ${f.model} is a ${cfg.type}, not a segmentor`);
  const files = imageFiles(f.image);
  const model = new Segmentor(cfg);
  mkdirSync(f.out, { recursive: true });
  // An exported segmentor's logits are at the input size (the predictor's first resize, done in the graph).
  const predictor = onnx ? new SegmentorPredictor(model, await OrtModelRunner.create(onnx.bytes, { threads: f.threads }))
    : await createSegmentorPredictor(model, await weightsFor(model.scope.registry, f.weights), f.engine, engineOptions(f));
  const mode = f.mode ?? cfg.test.mode;
  const bar = files.length > 1 ? progress('segment', files.length, { unit: 'images' }) : null;
  const failed: Array<{ file: string; error: string }> = [];
  const stems = outputStems(files);
  try {
    for (const [i, file] of files.entries()) {
      try {
        const t0 = performance.now();
        const img = await readRgb(file);
        const pred = await predictor.predict(img, { mode, tta: f.tta });
        const ms = performance.now() - t0;
        const stem = join(f.out, stems[i]);
        await writeFileAtomic(`${stem}.labels.png`, labelPng(pred.labels));
        if (f.overlay) await writeFileAtomic(`${stem}.overlay.png`, await overlayPng(img, pred.labels, model.palette, f.opacity, model.classNames));
        const summary = {
          image: file, width: img.width, height: img.height, ...(f.model ? { model: f.model } : { config: f.config }), engine: f.engine, mode, tta: f.tta ?? false,
          passes: pred.passes, time_ms: Math.round(ms), classes: classShares(pred.labels, model.classNames),
        };
        await writeFileAtomic(`${stem}.json`, `${JSON.stringify(summary, null, 2)}\n`);
        if (!bar) console.log(`${file}: ${summary.classes.slice(0, 5).map((c) => `${c.name} ${(c.fraction * 100).toFixed(1)}%`).join(', ')} -> ${stem}.*`);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        failed.push({ file, error: e.message });
      }
      bar?.update(i + 1);
    }
  } finally {
    bar?.stop();
    await predictor.dispose();
  }
  return failed;
}

export function register(program: Command): void {
  const cmd = program.command('segment').description(DESCRIPTIONS['segment']);
  addModelOptions(cmd, { weights: 'required', model: true })
    .requiredOption('--image <paths...>', 'images and/or folders of images (several, or a shell glob)')
    .requiredOption('-o, --out <dir>', 'output folder')
    .addOption(new Option('--mode <mode>', 'whole image or sliding window (default: the config\'s)').choices(['whole', 'slide']))
    .option('--tta', 'flip and multi-scale test-time augmentation (the config\'s tta scales)')
    .option('--opacity <x>', 'overlay colour weight', parseOpacity, 0.5)
    .option('--no-overlay', 'do not write overlay PNGs')
    .action(async (f: SegmentFlags) => {
      const failed = await segmentImages(f);
      if (failed.length > 0) {
        for (const { file, error } of failed) console.error(`failed: ${error.startsWith(file) ? error : `${file}: ${error}`}`);
        throw new UserError(`${failed.length} image(s) could not be segmented (listed above); the others were written to ${f.out}`);
      }
    });
}
