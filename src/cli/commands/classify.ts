/**
 * `convnext classify`: top-k ImageNet (or config) classes of images, as JSON: one object for one
 * image, an array (in file order) for several or a folder. With `--batch N`, N images go through
 * the network per run (every image is cropped to the same size). Files that cannot be read are
 * listed at the end (exit code 2); the others are still classified.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { createRunner } from '../../core/engine.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { Classifier } from '../../tasks/classification/classifier.js';
import { topK } from '../../tasks/classification/topk.js';
import { classificationInput, readRgb } from '../../io/image.js';
import { imageFiles } from '../../io/image-files.js';
import { addModelOptions, checkModelFlags, configFromFlags, engineOptions, type ModelFlags, positiveInt, readModelFile, weightsFor } from '../common.js';
import { OrtModelRunner } from '../../core/ort/runner.js';
import { progress } from '../progress.js';
import { DESCRIPTIONS } from './descriptions.js';

interface ClassifyFlags extends ModelFlags {
  image: string[];
  topk: number;
  batch: number;
}

/** Inputs [1, C, H, W] of equal shape as one batch [N, C, H, W]. */
function stack(xs: readonly HostTensor[]): HostTensor {
  const per = xs[0].data.length;
  const data = new Float32Array(per * xs.length);
  xs.forEach((x, i) => data.set(x.data, i * per));
  return { shape: [xs.length, ...xs[0].shape.slice(1)], data };
}

export function register(program: Command): void {
  const cmd = program.command('classify').description(DESCRIPTIONS['classify']);
  addModelOptions(cmd, { weights: 'required', model: true })
    .requiredOption('--image <paths...>', 'images and/or folders of images (several, or a shell glob)')
    .option('--topk <k>', 'number of classes to print', positiveInt('--topk'), 5)
    .option('--batch <n>', 'images per network run', positiveInt('--batch'), 1)
    .action(async (f: ClassifyFlags) => {
      checkModelFlags(f);
      const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
      const cfg = onnx ? onnx.config : configFromFlags(f);
      const name = f.model ?? f.config;
      if (cfg.type !== 'classifier') throw new UserError(`${f.model ? 'model' : 'config'} ${name} is a ${cfg.type}, not a classifier`);
      const files = imageFiles(f.image);
      const model = new Classifier(cfg);
      const net = model.network();
      // An export with a fixed batch dimension runs images one by one.
      const batch = onnx && typeof onnx.info.inputs[0]?.dims[0] === 'number' ? 1 : f.batch;
      const shape = [batch, 3, cfg.input.crop, cfg.input.crop];
      const runner = onnx ? await OrtModelRunner.create(onnx.bytes, { threads: f.threads })
        : await createRunner(f.engine, net, await weightsFor(net.registry, f.weights), { ...engineOptions(f), ...(batch === 1 ? { inputShape: shape } : {}) });
      const source = f.model ? { model: f.model } : { config: f.config };
      const results: object[] = [];
      const failed: Array<{ file: string; error: string }> = [];
      const bar = files.length > 1 ? progress('classify', files.length, { unit: 'images' }) : null;
      try {
        for (let start = 0; start < files.length; start += batch) {
          const read: Array<{ file: string; input: HostTensor }> = [];
          for (const file of files.slice(start, start + batch)) {
            try {
              read.push({ file, input: await classificationInput(await readRgb(file), cfg.input) });
            } catch (e) {
              if (!(e instanceof UserError) || files.length === 1) throw e;
              failed.push({ file, error: e.message });
            }
          }
          if (read.length === 0) continue;
          const { logits } = await runner.run(stack(read.map((r) => r.input)));
          const k = logits.shape[1];
          read.forEach((r, i) => {
            const top = topK(logits.data.subarray(i * k, (i + 1) * k), Math.min(f.topk, cfg.num_classes))
              .map(({ index, prob }) => ({ index, label: model.classNames[index], score: prob }));
            results.push({ image: r.file, ...source, engine: f.engine, topk: top });
          });
          bar?.update(Math.min(files.length, start + batch));
        }
      } finally {
        bar?.stop();
        await runner.dispose();
      }
      // One file named on its own prints its object; anything else (several, a folder) an array.
      const single = f.image.length === 1 && files.length === 1 && files[0] === f.image[0] && results.length === 1;
      if (results.length > 0) console.log(JSON.stringify(single ? results[0] : results, null, 2));
      if (failed.length > 0) {
        for (const { file, error } of failed) console.error(`failed: ${error.startsWith(file) ? error : `${file}: ${error}`}`);
        throw new UserError(`${failed.length} image(s) could not be read (listed above)`);
      }
    });
}
