/** `convnext classify`: top-k ImageNet (or config) classes of an image, as JSON. */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { createRunner } from '../../core/engine.js';
import { Classifier } from '../../tasks/classification/classifier.js';
import { topK } from '../../tasks/classification/topk.js';
import { classificationInput, readRgb } from '../../io/image.js';
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, positiveInt, readModelFile, weightsFor } from '../common.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import { DESCRIPTIONS } from './descriptions.js';

interface ClassifyFlags extends ModelFlags {
  image: string;
  topk: number;
}

export function register(program: Command): void {
  const cmd = program.command('classify').description(DESCRIPTIONS['classify']);
  addModelOptions(cmd, { weights: 'required', model: true })
    .requiredOption('--image <file>', 'input image')
    .option('--topk <k>', 'number of classes to print', positiveInt('--topk'), 5)
    .action(async (f: ClassifyFlags) => {
      checkModelFlags(f);
      const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
      const cfg = onnx ? onnx.config : configFromFlags(f);
      const name = f.model ?? f.config;
      if (cfg.type !== 'classifier') throw new UserError(`${f.model ? 'model' : 'config'} ${name} is a ${cfg.type}, not a classifier`);
      const model = new Classifier(cfg);
      const net = model.network();
      const input = await classificationInput(await readRgb(f.image), cfg.input);
      const runner = onnx ? await OrtModelRunner.create(onnx.bytes, { threads: f.threads })
        : await createRunner(f.engine, net, await weightsFor(net.registry, f.weights), { ...engineOptions(f), inputShape: input.shape });
      try {
        const { logits } = await runner.run(input);
        const top = topK(logits.data, Math.min(f.topk, cfg.num_classes)).map(({ index, prob }) => ({ index, label: model.classNames[index], score: prob }));
        console.log(JSON.stringify({ image: f.image, ...(f.model ? { model: f.model } : { config: f.config }), engine: f.engine, topk: top }, null, 2));
      } finally {
        await runner.dispose();
      }
    });
}
