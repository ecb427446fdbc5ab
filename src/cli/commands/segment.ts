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
import { type SegPrediction, SegmentorPredictor } from '../../tasks/segmentation/segmentor-predict.js';
import type { RgbImage } from '../../image/rgb.js';
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, positiveInt, readModelFile, weightsFor } from '../common.js';
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
  /** Images per engine run (default 1). */
  batch?: number;
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
  // A fixed batch dimension (an export at one batch size) runs images one by one.
  const batchable = !onnx || typeof onnx.info.inputs[0]?.dims[0] !== 'number';
  const batch = f.batch ?? 1;
  const write = async (file: string, i: number, img: RgbImage, pred: SegPrediction, ms: number) => {
    const stem = join(f.out, stems[i]);
    await writeFileAtomic(`${stem}.labels.png`, labelPng(pred.labels));
    if (f.overlay) await writeFileAtomic(`${stem}.overlay.png`, await overlayPng(img, pred.labels, model.palette, f.opacity, model.classNames));
    const summary = {
      image: file, width: img.width, height: img.height, ...(f.model ? { model: f.model } : { config: f.config }), engine: f.engine, mode, tta: f.tta ?? false,
      passes: pred.passes, time_ms: Math.round(ms), classes: classShares(pred.labels, model.classNames),
    };
    await writeFileAtomic(`${stem}.json`, `${JSON.stringify(summary, null, 2)}\n`);
    if (!bar) console.log(`${file}: ${summary.classes.slice(0, 5).map((c) => `${c.name} ${(c.fraction * 100).toFixed(1)}%`).join(', ')} -> ${stem}.*`);
  };
  const attempt = async (file: string, job: () => Promise<void>) => {
    try {
      await job();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      failed.push({ file, error: e.message });
    }
  };
  try {
    // Images go through the engine `batch` at a time (one run when they rescale to the same size
    // in whole mode without TTA, see SegmentorPredictor.predictBatch); time_ms is the batch's
    // time shared among its images.
    for (let start = 0; start < files.length; start += batch) {
      const t0 = performance.now();
      const read: Array<{ file: string; i: number; img: RgbImage }> = [];
      for (const [k, file] of files.slice(start, start + batch).entries()) {
        await attempt(file, async () => { read.push({ file, i: start + k, img: await readRgb(file) }); });
      }
      let preds: SegPrediction[] | null = null;
      if (read.length > 1) {
        try {
          preds = await predictor.predictBatch(read.map((r) => r.img), { mode, tta: f.tta }, batchable);
        } catch (e) {
          if (!(e instanceof UserError)) throw e; // one by one below, so each image gets its own error
        }
      }
      const ms = (performance.now() - t0) / Math.max(1, read.length);
      for (const [k, r] of read.entries()) {
        await attempt(r.file, async () => {
          const t1 = performance.now();
          const pred = preds ? preds[k] : await predictor.predict(r.img, { mode, tta: f.tta });
          await write(r.file, r.i, r.img, pred, preds ? ms : ms + performance.now() - t1);
        });
      }
      bar?.update(Math.min(files.length, start + batch));
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
    .option('--batch <n>', 'images per engine run: same-size images in whole mode without --tta run as one batch', positiveInt('--batch'), 1)
    .action(async (f: SegmentFlags) => {
      const failed = await segmentImages(f);
      if (failed.length > 0) {
        for (const { file, error } of failed) console.error(`failed: ${error.startsWith(file) ? error : `${file}: ${error}`}`);
        throw new UserError(`${failed.length} image(s) could not be segmented (listed above); the others were written to ${f.out}`);
      }
    });
}
