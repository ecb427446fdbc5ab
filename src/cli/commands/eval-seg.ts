/**
 * Evaluation of a semantic segmentor (`convnext eval` for segmentor configs): segments every image
 * of `--data DIR` (images/ and annotations/ with the same relative paths), then prints aAcc, mIoU,
 * mAcc and the per-class IoU / Acc table as mmsegmentation does, and writes them as JSON (`--out`).
 */
import { UserError } from '../../core/errors.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import type { OnnxModel } from '../../tasks/onnx-model.js';
import { formatMIoU, mIoUToJson } from '../../eval/miou-format.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { Segmentor } from '../../tasks/segmentation/segmentor.js';
import { evaluateSegmentation } from '../../tasks/segmentation/segmentor-eval.js';
import { listSegSamples } from '../../io/seg-dataset.js';
import { SegmentorPredictor } from '../../tasks/segmentation/segmentor-predict.js';
import { engineOptions, type ModelFlags, weightsFor } from '../common.js';
import { progress } from '../progress.js';
import { segmentorConfig } from './segment.js';
import { createSegmentorPredictor } from '../../tasks/segmentation/segmentor-engine.js';

export interface EvalSegFlags extends ModelFlags {
  data: string;
  /** The exported model of --model, read (its metadata gives the config). */
  onnx?: OnnxModel & { bytes: Uint8Array };
  out?: string;
  mode?: 'whole' | 'slide';
  tta?: boolean;
  limit?: number;
}

/** `convnext eval` for segmentors: prints the tables and writes the JSON report; returns it. */
export async function evalSegmentation(f: EvalSegFlags): Promise<Record<string, unknown>> {
  const cfg = f.onnx ? f.onnx.config : segmentorConfig(f);
  if (cfg.type !== 'segmentor') throw new UserError(`${f.model} is a ${cfg.type}, not a segmentor`);
  const samples = listSegSamples(f.data).slice(0, f.limit);
  const model = new Segmentor(cfg);
  // An exported segmentor returns logits at its input size (the predictor's first resize is in the graph).
  const predictor = f.onnx
    ? new SegmentorPredictor(model, await OrtModelRunner.create(f.onnx.bytes, { threads: f.threads }))
    : await createSegmentorPredictor(model, await weightsFor(model.scope.registry, f.weights), f.engine, engineOptions(f));
  const mode = f.mode ?? cfg.test.mode;
  const bar = progress('eval', samples.length, { unit: 'images' });
  let result;
  try {
    result = await evaluateSegmentation(predictor, samples, { mode, tta: f.tta, onProgress: (n) => bar.update(n) });
  } finally {
    bar.stop();
    await predictor.dispose();
  }
  console.log(formatMIoU(result));
  const report = {
    data: f.data, config: f.config ?? f.model, engine: f.engine, mode, tta: f.tta ?? false, images: samples.length,
    reduce_zero_label: cfg.dataset.reduce_zero_label, ignore_index: cfg.dataset.ignore_index, ...mIoUToJson(result),
  };
  if (f.out) await writeFileAtomic(f.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

