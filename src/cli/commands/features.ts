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
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, readModelFile, weightsFor } from '../common.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
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
  addModelOptions(cmd, { weights: 'required', model: true })
    .option('--image <file>', 'input image (sharp: EXIF orientation, RGB, normalised)')
    .option('--tensor <file>', 'raw NCHW float32 input: the first tensor of a safetensors file, no preprocessing')
    .requiredOption('-o, --out <file>', 'output .safetensors')
    .action(async (f: FeaturesFlags) => {
      if (!!f.image === !!f.tensor) throw new UserError('give exactly one of --image or --tensor');
      checkModelFlags(f);
      const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
      const cfg = onnx ? onnx.config : configFromFlags(f);
      const fm = featureModel(cfg);
      const input = f.tensor ? await readInputTensor(f.tensor, cfg.backbone.in_channels) : await imageInput(cfg, f.image!);
      const runner = onnx ? await OrtModelRunner.create(onnx.bytes, { threads: f.threads })
        : await createRunner(f.engine, fm.network, await weightsFor(fm.network.registry, f.weights), { ...engineOptions(f), inputShape: input.shape });
      try {
        const out = await runner.run(input);
        const missing = fm.specs.filter((s) => out[s.name] === undefined).map((s) => s.name);
        if (missing.length > 0) throw new UserError(`${f.model}: the model has no output ${missing.join(', ')} (not a feature extractor export?)`);
        await writeSafetensors(f.out, new Map(fm.specs.map((s) => [s.name, out[s.name]])), { metadata: { ...(f.model ? { model: f.model } : { config: f.config }), engine: f.engine } });
        for (const s of fm.specs) console.error(`${s.name}: [${out[s.name].shape.join(', ')}] stride ${s.stride}`);
        console.error(`wrote ${f.out}`);
      } finally {
        await runner.dispose();
      }
    });
}
