/** `convnext export`: the model as one ONNX file (fixed size, or dynamic batch/height/width). */
import { type Command, Option } from 'commander';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { nativeSize } from '../../tasks/networks.js';
import { isDetectorConfig, maskPasteValues } from '../../config/detector.js';
import type { ModelConfig } from '../../config/models.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { exportGraph, exportInputDims, exportNetwork } from '../../tasks/export-onnx.js';
import { formatTritonConfig, tritonModelConfig } from '../../tasks/triton.js';
import { collect, configFromFlags, type ModelFlags, positiveInt, weightsFor } from '../common.js';
import { DESCRIPTIONS } from './descriptions.js';

interface ExportFlags extends Pick<ModelFlags, 'config' | 'set' | 'weights'> {
  out?: string;
  triton?: string;
  tritonName?: string;
  maxBatchSize: number;
  instances: number;
  dynamic?: boolean;
  size?: string;
  imageSizeInput?: boolean;
  pasteMasks?: boolean;
  weightsDtype: 'float32' | 'float16';
}

/** Parses `HxW` or `S` into [h, w]. */
export function parseSize(s: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(s);
  if (!m) throw new UserError(`--size expects H or HxW, got '${s}'`);
  const h = Number(m[1]);
  const w = m[2] ? Number(m[2]) : h;
  if (h < 32 || w < 32) throw new UserError(`--size ${s}: height and width must be at least 32`);
  return [h, w];
}


/** Refuses `--paste-masks` where the graph cannot paste (one line naming what is missing). */
function checkPasteMasks(cfg: ModelConfig, f: ExportFlags, batch: number | 'batch'): void {
  if (!isDetectorConfig(cfg)) throw new UserError(`--paste-masks applies to detectors; ${f.config} is a ${cfg.type}`);
  if (!f.imageSizeInput) throw new UserError('--paste-masks needs --image-size-input (the valid size of each image inside the padded input)');
  if (batch === 1) throw new UserError('--paste-masks builds the batched graph: give --dynamic or --triton');
  const paste = maskPasteValues(cfg).paste;
  if (paste !== 'grid_sample') throw new UserError(`--paste-masks pastes as mmdetection does; ${f.config} pastes as ${paste} (torchvision conventions): keep the paste outside the graph`);
}

export function register(program: Command): void {
  program
    .command('export')
    .description(DESCRIPTIONS['export'])
    .requiredOption('-c, --config <name>', 'named config or JSON file')
    .option('--set <key=value>', 'override a config value (repeatable)', collect)
    .requiredOption('-w, --weights <file>', 'weights (.safetensors or .pth)')
    .option('-o, --out <file>', 'output .onnx file (or give --triton)')
    .option('--triton <repo>', 'write a Triton model repository entry instead: <repo>/<name>/1/model.onnx and <repo>/<name>/config.pbtxt')
    .option('--triton-name <name>', 'the model name in the Triton repository (default: the config name)')
    .option('--max-batch-size <n>', 'Triton max_batch_size', positiveInt('--max-batch-size'), 8)
    .option('--instances <n>', 'Triton CPU instances of the model', positiveInt('--instances'), 1)
    .addOption(new Option('--dynamic', 'dynamic batch, height and width').conflicts('size'))
    .option('--size <HxW>', 'fixed input size (default: the config\'s own, e.g. 224 for classifiers)')
    .option('--image-size-input', "detectors: a second input image_size [2] (the valid height and width inside the padded input), the graph `detect --model` runs exactly as the config")
    .option('--paste-masks', 'detectors (with --image-size-input, in the batched graph of --dynamic or --triton): a third input orig_size and the whole post-processing in the graph: boxes in original pixels, binary uint8 masks pasted at the original size (mmdetection\'s paste)')
    .addOption(new Option('--weights-dtype <dtype>', 'float16: weights stored in half precision and cast to float32 once at load (half the file; outputs within 1e-2 relative)').choices(['float32', 'float16']).default('float32'))
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: ExportFlags) => {
      if ((f.out === undefined) === (f.triton === undefined)) throw new UserError('give --out FILE or --triton REPO (one of them)');
      const cfg = configFromFlags({ ...f, engine: 'ort', backend: 'auto' });
      if (f.imageSizeInput && !isDetectorConfig(cfg)) throw new UserError(`--image-size-input applies to detectors; ${f.config} is a ${cfg.type}`);
      const size = f.dynamic ? undefined : f.size ? parseSize(f.size) : nativeSize(cfg);
      if (!f.dynamic && !size) throw new UserError(`config ${f.config} has no fixed input size: give --size HxW or --dynamic`);
      // A Triton entry and a dynamic export take a batch; a fixed-size file runs one image.
      const batch = f.triton !== undefined || !size ? 'batch' : 1;
      if (f.pasteMasks) checkPasteMasks(cfg, f, batch);
      const net = exportNetwork(cfg, f.imageSizeInput, batch, f.pasteMasks);
      const weights = await weightsFor(net.registry, f.weights);
      const graph = { name: f.config, size: size ?? null, imageSizeInput: f.imageSizeInput, weightsDtype: f.weightsDtype };
      if (f.triton !== undefined) {
        const name = f.tritonName ?? basename(f.config).replace(/\.json$/, '');
        if (!/^[A-Za-z0-9_.-]+$/.test(name) || /^\.+$/.test(name)) throw new UserError(`--triton-name ${name}: use letters, digits, '_', '.' and '-' only`);
        const triton = tritonModelConfig(cfg, { name, size: size ?? undefined, imageSizeInput: f.imageSizeInput, pasteMasks: f.pasteMasks, maxBatchSize: f.maxBatchSize, instances: f.instances });
        // The graph keeps a dynamic batch dimension for Triton's batcher, even at a fixed size.
        const bytes = exportGraph(cfg, net, weights, { ...graph, batch });
        const dir = join(f.triton, name);
        await mkdir(join(dir, '1'), { recursive: true });
        await writeFileAtomic(join(dir, '1', 'model.onnx'), bytes);
        await writeFileAtomic(join(dir, 'config.pbtxt'), formatTritonConfig(triton));
        console.error(`wrote ${dir}/1/model.onnx (${(bytes.length / 1e6).toFixed(1)} MB) and ${dir}/config.pbtxt (max_batch_size ${triton.maxBatchSize})`);
        return;
      }
      const out = f.out!;
      const bytes = exportGraph(cfg, net, weights, { ...graph, batch });
      await writeFileAtomic(out, bytes);
      const input = exportInputDims(net, { size: size ?? null, batch });
      const inputs = `input [${input.join(', ')}]`;
      console.error(`wrote ${out} (${(bytes.length / 1e6).toFixed(1)} MB): ${inputs} -> ${Object.keys(net.outputs).join(', ')}`);
    });
}
