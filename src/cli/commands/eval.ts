/**
 * `convnext eval`: one command for every model kind, dispatched on the config's type — COCO
 * bbox/segm for Mask R-CNN (or a results file alone), aAcc/mIoU/mAcc for segmentors.
 */
import { type Command, Option } from 'commander';
import { isDetectorConfig } from '../../config/detector.js';
import { UserError } from '../../core/errors.js';
import { ENGINES } from '../../core/engine.js';
import { BACKEND_CHOICES } from '../../core/tfjs/backend.js';
import { collect, configFromFlags, positiveInt, readModelFile } from '../common.js';
import { evalDetection, type EvalDetFlags } from './eval-det.js';
import { evalSegmentation, type EvalSegFlags } from './eval-seg.js';
import { DESCRIPTIONS } from './descriptions.js';

type EvalFlags = EvalDetFlags & EvalSegFlags;

/** Flags that only one kind of evaluation takes. */
const DET_ONLY = ['images', 'results', 'saveResults', 'classwise'] as const;
const SEG_ONLY = ['mode', 'tta'] as const;

function refuse(f: EvalFlags, keys: readonly (keyof EvalFlags)[], kind: string): void {
  const bad = keys.filter((k) => f[k] !== undefined);
  if (bad.length) {
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UserError(`${bad.map(flag).join(', ')} do${bad.length === 1 ? 'es' : ''} not apply to ${kind}`);
  }
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(DESCRIPTIONS['eval'])
    .option('-c, --config <name>', 'named config or JSON file (not needed with --results)')
    .option('--set <key=value>', 'override a config value (repeatable)', collect)
    .option('-w, --weights <file>', 'weights (.safetensors or .pth)')
    .option('-m, --model <file>', 'an ONNX file written by `convnext export` or `convnext quantize` instead of --config and --weights (ort engine)')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices([...ENGINES]).default('ort'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (tfjs engine)').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--verbose', 'show stack traces on errors')
    .requiredOption('--data <path>', 'detection: COCO annotation JSON; segmentation: folder with images/ and annotations/')
    .option('--images <dir>', 'detection: folder of the annotation file\'s images')
    .option('--results <file.json>', 'detection: evaluate this COCO results file instead of running a model')
    .option('--save-results <file.json>', 'detection: also write the model\'s COCO results')
    .option('--classwise', 'detection: print per-category AP')
    .addOption(new Option('--mode <mode>', 'segmentation: whole image or sliding window (default: the config\'s)').choices(['whole', 'slide']))
    .option('--tta', 'segmentation: flip and multi-scale test-time augmentation')
    .option('--limit <n>', 'evaluate the first n images only', positiveInt('--limit'))
    .option('--out <file.json>', 'where to write the figures as JSON (default coco_eval.json / seg_eval.json)')
    .action(async (f: EvalFlags) => {
      if (f.model !== undefined) {
        if (f.config !== undefined || f.weights !== undefined || (f.set?.length ?? 0) > 0 || f.results !== undefined) throw new UserError('give --model, or --config and --weights (or --results), not several');
        if (f.engine !== 'ort') throw new UserError(`--model runs on the ort engine, not ${f.engine}`);
      } else if (!f.config) {
        if (!f.results) throw new UserError('give --config (with --weights), or --results to evaluate a COCO results file');
        refuse(f, SEG_ONLY, 'COCO evaluation');
        await evalDetection({ ...f, out: f.out ?? 'coco_eval.json' });
        return;
      }
      const onnx = f.model !== undefined ? await readModelFile(f.model) : undefined;
      const cfg = onnx ? onnx.config : configFromFlags(f);
      if (cfg.type === 'segmentor') {
        refuse(f, DET_ONLY, 'segmentation evaluation');
        if (!f.weights && !onnx) throw new UserError('--weights <file> (or --model) is required');
        await evalSegmentation({ ...f, onnx, out: f.out ?? 'seg_eval.json' });
      } else if (isDetectorConfig(cfg)) {
        refuse(f, SEG_ONLY, 'COCO evaluation');
        await evalDetection({ ...f, onnx, out: f.out ?? 'coco_eval.json' });
      } else {
        throw new UserError(`${f.model ?? `config ${f.config}`} is a ${cfg.type}; eval takes segmentor and detector (mask_rcnn, cascade_mask_rcnn) configs`);
      }
    });
}
