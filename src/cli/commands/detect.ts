/**
 * `convnext detect`: instance segmentation of an image or a folder of images. Per image it writes
 * `<name>.json` (COCO-style instances: xywh box, score, category id, class name, RLE mask) and
 * `<name>.png` (overlay); for the whole run `results.json` (a COCO results file, image ids 1…N
 * in file order) and `images.json` (those ids with file names and sizes). With `--batch N`, N
 * images go through the network per run, padded to one size (mmdetection's collate).
 */
import { type Command, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { type DetectorConfig, isDetectorConfig } from '../../config/detector.js';
import type { CocoResult } from '../../io/coco/types.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readRgb } from '../../io/image.js';
import { imageFiles, outputStems } from '../../io/image-files.js';

import { Detector } from '../../tasks/detection/detector.js';
import { DEFAULT_SCORE_THR, imageDetections } from '../../tasks/detection/detector-json.js';
import { renderOverlay } from '../../tasks/detection/detector-overlay.js';
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, positiveInt, readModelFile, weightsFor } from '../common.js';
import type { RgbImage } from '../../image/rgb.js';
import type { DetectionResult } from '../../tasks/detection/detector-predict.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import { exportedDetectorPredictor } from '../../tasks/exported-model.js';
import { progress } from '../progress.js';
import { DESCRIPTIONS } from './descriptions.js';
import { createDetectorPredictor } from '../../tasks/detection/detector-engine.js';


interface DetectFlags extends ModelFlags {
  image: string[];
  out: string;
  scoreThr: number;
  overlay: boolean;
  nms: 'class' | 'agnostic';
  /** Images per network run (default 1). */
  batch?: number;
}

function parseScore(v: string): number {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new UserError(`--score-thr expects a number in [0, 1], got '${v}'`);
  return x;
}

/** The detector config of the flags (a UserError when the config is another model type). */
export function detectorConfig(f: ModelFlags): DetectorConfig {
  const cfg = configFromFlags(f);
  if (!isDetectorConfig(cfg)) throw new UserError(`config ${f.config} is a ${cfg.type}, not a detector (try a mask-rcnn_* or cascade-mask-rcnn_* config)`);
  return cfg;
}

export function register(program: Command): void {
  const cmd = program.command('detect').description(DESCRIPTIONS['detect']);
  addModelOptions(cmd, { weights: 'required', model: true })
    .requiredOption('--image <paths...>', 'images and/or folders of images (several, or a shell glob)')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--score-thr <x>', 'keep instances scoring at least this', parseScore, DEFAULT_SCORE_THR)
    .option('--no-overlay', 'do not write overlay PNGs')
    .addOption(new Option('--nms <kind>', "'agnostic': also suppress overlapping instances of other classes (one class per object)").choices(['class', 'agnostic']).default('class'))
    .option('--batch <n>', 'images per network run (padded to one size, as mmdetection batches)', positiveInt('--batch'), 1)
    .action(async (f: DetectFlags) => {
      checkModelFlags(f);
      const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
      const cfg = onnx ? onnx.config : detectorConfig(f);
      if (!isDetectorConfig(cfg)) throw new UserError(`model ${f.model} is a ${cfg.type}, not a detector`);
      const files = imageFiles(f.image);
      const det = new Detector(cfg);
      mkdirSync(f.out, { recursive: true });
      const predictor = onnx
        ? exportedDetectorPredictor(det, onnx, await OrtModelRunner.create(onnx.bytes, { threads: f.threads }), f.model)
        : await createDetectorPredictor(det, await weightsFor(det.scope.registry, f.weights), f.engine, engineOptions(f));
      const bar = files.length > 1 ? progress('detect', files.length, { unit: 'images' }) : null;
      const all: CocoResult[] = [];
      const images: Array<{ id: number; file_name: string; width: number; height: number }> = [];
      const cocoClasses = cfg.class_names === 'coco';
      const stems = outputStems(files);
      const failed: Array<{ file: string; error: string }> = [];
      const write = async (file: string, i: number, img: RgbImage, r: DetectionResult) => {
        const id = i + 1;
        const record = imageDetections(file, r, id, { cocoClasses });
        const results = record.instances.map(({ label: _label, class_name: _name, ...res }) => res);
        const stem = stems[i];
        await writeFileAtomic(join(f.out, `${stem}.json`), JSON.stringify(record));
        if (f.overlay) await writeFileAtomic(join(f.out, `${stem}.png`), await renderOverlay(img, r));
        all.push(...results);
        images.push({ id, file_name: file, width: r.width, height: r.height });
        bar?.update(i + 1, `${stem}: ${r.instances.length}`);
        if (!bar) console.error(`${file}: ${r.instances.length} instance(s) at score ≥ ${f.scoreThr}`);
      };
      const batch = f.batch ?? 1;
      const opts = { scoreThr: f.scoreThr, nms: f.nms };
      try {
        for (let start = 0; start < files.length; start += batch) {
          const read: Array<{ file: string; i: number; img: RgbImage }> = [];
          for (const [k, file] of files.slice(start, start + batch).entries()) {
            try {
              read.push({ file, i: start + k, img: await readRgb(file) });
            } catch (e) {
              // A bad file in a folder is listed at the end; the others are still processed.
              if (!(e instanceof UserError)) throw e;
              failed.push({ file, error: e.message });
              bar?.update(start + k + 1);
            }
          }
          const results = read.length > 1 ? await predictor.predictBatch(read.map((r) => r.img), opts) : [];
          for (const [k, r] of read.entries()) await write(r.file, r.i, r.img, results[k] ?? (await predictor.predict(r.img, opts)));
        }
      } finally {
        bar?.stop();
        await predictor.dispose();
      }
      await writeFileAtomic(join(f.out, 'results.json'), JSON.stringify(all));
      await writeFileAtomic(join(f.out, 'images.json'), JSON.stringify(images));
      console.error(`wrote ${images.length} image result(s) to ${f.out}`);
      if (failed.length > 0) {
        for (const { file, error } of failed) console.error(`failed: ${error.startsWith(file) ? error : `${file}: ${error}`}`);
        throw new UserError(`${failed.length} image(s) could not be read (listed above); the others were written to ${f.out}`);
      }
    });
}
