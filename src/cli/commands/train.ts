/**
 * `convnext train --config NAME --data PATH --work-dir DIR [--val-data PATH] [--resume]
 * [--max-steps N]`: trains a Mask R-CNN or a segmentor on the tfjs engine (see src/train/trainer.ts).
 * Shows a progress bar with the loss terms, lr, steps/s and ETA (plain lines when stderr is not a
 * terminal), writes DIR/log.jsonl and checkpoints; Ctrl-C saves a checkpoint and exits.
 */
import { type Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/tfjs/backend.js';
import { resolveRecipe } from '../../../configs/index.js';
import { train } from '../../train/trainer.js';
import { positiveInt } from '../common.js';
import { progress, type Progress } from '../progress.js';
import { DESCRIPTIONS } from './descriptions.js';

interface TrainFlags {
  config: string;
  set?: string[];
  data: string;
  images?: string;
  valData?: string;
  workDir: string;
  resume?: boolean;
  maxSteps?: number;
  backend: BackendChoice;
}

function shortTerm(k: string): string {
  return k.replace(/^loss_/, '').replace(/\.loss_ce$/, '');
}

export function register(program: Command): void {
  program
    .command('train')
    .description(DESCRIPTIONS['train'])
    .requiredOption('-c, --config <name>', 'training recipe (e.g. demo_mask-rcnn_synth) or a detector / segmentor config')
    .option('--set <key=value>', 'override a recipe value (repeatable), e.g. optimizer.lr=1e-4 or model.backbone.drop_path_rate=0.1', (v: string, p: string[] = []) => [...p, v])
    .requiredOption('--data <path>', 'training data: a folder with annotations.json + images/ (detection) or images/ + annotations/ (segmentation), or a COCO JSON file')
    .option('--images <dir>', 'image folder of a COCO JSON given as --data (default: images/ next to it)')
    .option('--val-data <path>', 'held-out data (same layout) evaluated every eval.interval steps and at the end')
    .requiredOption('--work-dir <dir>', 'folder for checkpoints, log.jsonl, best.safetensors')
    .option('--resume', 'continue from the latest checkpoint in --work-dir')
    .option('--max-steps <n>', 'stop after this many steps in total (default: the recipe\'s max_steps)', positiveInt('--max-steps'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: TrainFlags) => {
      const recipe = resolveRecipe(f.config, f.set ?? []);
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        process.stderr.write('\nstopping after this step (checkpoint follows); Ctrl-C again to quit at once\n');
      };
      process.on('SIGINT', onSigint);
      let bar: Progress | null = null;
      const log = (line: string) => {
        if (bar && process.stderr.isTTY) process.stderr.write('\n');
        process.stderr.write(`${line}\n`);
      };
      try {
        const s = await train({
          recipe, data: f.data, images: f.images, valData: f.valData, workDir: f.workDir, resume: f.resume, maxSteps: f.maxSteps,
          backend: f.backend, log, shouldStop: () => stop,
          onStep: (i) => {
            // Created at the first step: its rate counts from that step's start, not from now.
            bar ??= progress(`train ${recipe.name}`, i.total - i.start, { unit: 'steps', startedAt: Date.now() - (i.time + i.dataTime) * 1000 });
            const terms = Object.entries(i.terms).map(([k, v]) => `${shortTerm(k)} ${v.toFixed(3)}`).join(' ');
            bar.update(i.step - i.start, `step ${i.step}/${i.total} loss ${i.loss.toFixed(3)} (${terms}) lr ${i.lr.toExponential(2)}`);
          },
        });
        (bar as Progress | null)?.stop();
        const best = s.best ? `; best ${s.best.metric} ${s.best.value.toFixed(4)} at step ${s.best.step}` : '';
        log(`${s.stopped ? 'stopped' : 'finished'} at step ${s.steps} (${s.ran} steps in ${s.seconds.toFixed(0)} s, last loss ${s.lastLoss.toFixed(4)})${best}; checkpoint ${s.checkpoint ?? 'none'}`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
