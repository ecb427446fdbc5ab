/**
 * Evaluation of a semantic segmentor (`convnext eval` for segmentor configs): segments every image
 * of `--data DIR` (images/ and annotations/ with the same relative paths), then prints aAcc, mIoU,
 * mAcc and the per-class IoU / Acc table as mmsegmentation does, and writes them as JSON (`--out`).
 */
import { type Command, Option } from 'commander';
import { ENGINES } from '../../core/engine.js';
import { BACKEND_CHOICES } from '../../core/tfjs/backend.js';
import { formatMIoU, mIoUToJson } from '../../eval/miou-format.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { Segmentor } from '../../tasks/segmentor.js';
import { evaluateSegmentation, listSegSamples } from '../../tasks/segmentor-eval.js';
import { SegmentorPredictor } from '../../tasks/segmentor-predict.js';
import { engineOptions, type ModelFlags, positiveInt, weightsFor } from '../common.js';
import { progress } from '../progress.js';
import { segmentorConfig } from './segment.js';

export interface EvalSegFlags extends ModelFlags {
  data: string;
  out?: string;
  mode?: 'whole' | 'slide';
  tta?: boolean;
  limit?: number;
}

/** `convnext eval` for segmentors: prints the tables and writes the JSON report; returns it. */
export async function evalSegmentation(f: EvalSegFlags): Promise<Record<string, unknown>> {
  const cfg = segmentorConfig(f);
  const samples = listSegSamples(f.data).slice(0, f.limit);
  const model = new Segmentor(cfg);
  const weights = await weightsFor(model.scope.registry, f.weights);
  const predictor = await SegmentorPredictor.create(model, weights, f.engine, engineOptions(f));
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
    data: f.data, config: f.config, engine: f.engine, mode, tta: f.tta ?? false, images: samples.length,
    reduce_zero_label: cfg.dataset.reduce_zero_label, ignore_index: cfg.dataset.ignore_index, ...mIoUToJson(result),
  };
  if (f.out) await writeFileAtomic(f.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Adds the segmentation options of `convnext eval` to a command. */
export function addEvalSegOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-c, --config <name>', 'named config (an upernet_* segmentor) or a JSON file')
    .option('--set <key=value>', 'override a config value (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('-w, --weights <file>', 'weights (.safetensors or .pth)')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices([...ENGINES]).default('ort'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (tfjs engine)').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--verbose', 'show stack traces on errors')
    .requiredOption('--data <dir>', 'folder with images/ and annotations/ (PNG label maps, same relative paths)')
    .addOption(new Option('--mode <mode>', 'whole image or sliding window (default: the config\'s)').choices(['whole', 'slide']))
    .option('--tta', 'flip and multi-scale test-time augmentation')
    .option('--limit <n>', 'evaluate the first n images only', positiveInt('--limit'))
    .option('--out <file.json>', 'write aAcc, mIoU, mAcc and per-class IoU / Acc as JSON');
}

/** A stand-alone `eval-seg` command (the `convnext eval` dispatcher may call evalSegmentation instead). */
export function register(program: Command): void {
  const cmd = program.command('eval-seg').description('evaluate a semantic segmentor: aAcc, mIoU, mAcc and per-class IoU');
  addEvalSegOptions(cmd).action(async (f: EvalSegFlags) => {
    await evalSegmentation(f);
  });
}
