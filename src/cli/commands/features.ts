/** `convnext features`: every output level of a model's backbone, written as safetensors (NCHW). */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { createRunner } from '../../core/engine.js';
import type { ModelConfig } from '../../config/models.js';
import { featureModel } from '../../tasks/features.js';
import { classificationInput, readRgb } from '../../io/image.js';
import { toTensor } from '../../image/rgb.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { addModelOptions, configFromFlags, engineOptions, type ModelFlags, weightsFor } from '../common.js';
import { readInputTensor } from '../input-tensor.js';
import { DESCRIPTIONS } from './descriptions.js';

interface FeaturesFlags extends ModelFlags {
  image?: string;
  tensor?: string;
  out: string;
}

/** Preprocesses an image for feature extraction: classifiers crop as in evaluation; others pad to /32. */
export async function imageInput(cfg: ModelConfig, file: string): Promise<HostTensor> {
  const img = await readRgb(file);
  if (cfg.type === 'classifier') return classificationInput(img, cfg.input);
  return toTensor(img, cfg.input.mean, cfg.input.std, 32);
}

export function register(program: Command): void {
  const cmd = program
    .command('features')
    .description(DESCRIPTIONS['features']);
  addModelOptions(cmd, { weights: 'required' })
    .option('--image <file>', 'input image (sharp: EXIF orientation, RGB, normalised)')
    .option('--tensor <file>', 'raw NCHW float32 input: the first tensor of a safetensors file, no preprocessing')
    .requiredOption('-o, --out <file>', 'output .safetensors')
    .action(async (f: FeaturesFlags) => {
      if (!!f.image === !!f.tensor) throw new UserError('give exactly one of --image or --tensor');
      const cfg = configFromFlags(f);
      const fm = featureModel(cfg);
      const weights = await weightsFor(fm.network.registry, f.weights);
      const input = f.tensor ? await readInputTensor(f.tensor, cfg.backbone.in_channels) : await imageInput(cfg, f.image!);
      const runner = await createRunner(f.engine, fm.network, weights, { ...engineOptions(f), inputShape: input.shape });
      try {
        const out = await runner.run(input);
        await writeSafetensors(f.out, new Map(Object.entries(out)), { metadata: { config: f.config, engine: f.engine } });
        for (const s of fm.specs) console.error(`${s.name}: [${out[s.name].shape.join(', ')}] stride ${s.stride}`);
        console.error(`wrote ${f.out}`);
      } finally {
        await runner.dispose();
      }
    });
}
