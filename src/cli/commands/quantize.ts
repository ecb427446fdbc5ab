/** `convnext quantize`: an int8 ONNX model, calibrated on images, with an accuracy report against float. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { fileError, UserError } from '../../core/errors.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../../core/ort/quant/ranges.js';
import { DEFAULT_KINDS, generateScene, SCENE_DEFAULTS } from '../../data/synth/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { isImageFile } from '../../io/image-files.js';
import { readRgb } from '../../io/image.js';
import type { RgbImage } from '../../image/rgb.js';
import { quantize, type QuantizeReport } from '../../pipeline/quantize.js';
import { collect, positiveInt } from '../common.js';
import { progress, type Progress } from '../progress.js';
import { parseSize } from './export.js';
import { DESCRIPTIONS } from './descriptions.js';

interface QuantizeFlags {
  config?: string;
  set?: string[];
  weights?: string;
  model?: string;
  out: string;
  calib?: string;
  synth?: number;
  mode: 'static' | 'dynamic';
  method?: CalibrationMethod;
  perChannel: boolean;
  reduceRange?: boolean;
  exclude?: string[];
  size?: string;
  dynamic?: boolean;
  threads?: number;
  json?: boolean;
  verbose?: boolean;
}

/** The decodable images of a calibration folder; unreadable files are listed and skipped. */
async function calibrationImages(dir: string): Promise<RgbImage[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw fileError(`--calib ${dir}`, e);
  }
  const files = names.filter(isImageFile).sort().map((f) => join(dir, f));
  if (files.length === 0) throw new UserError(`--calib ${dir}: the folder has no images`);
  const images: RgbImage[] = [];
  const failed: string[] = [];
  for (const f of files) {
    try {
      images.push(await readRgb(f));
    } catch (e) {
      failed.push(`${f}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (failed.length) console.error(`skipped ${failed.length} unreadable calibration image${failed.length === 1 ? '' : 's'}:\n  ${failed.join('\n  ')}`);
  if (images.length === 0) throw new UserError(`--calib ${dir}: none of its ${files.length} images could be read`);
  return images;
}

/** `n` synthetic scenes (320², the demo models' domain), deterministic. */
function synthImages(n: number): RgbImage[] {
  return Array.from({ length: n }, (_, i) => {
    const s = generateScene(20261205, i, { ...SCENE_DEFAULTS, width: 320, height: 320, kinds: DEFAULT_KINDS });
    return { width: s.width, height: s.height, data: s.rgb };
  });
}

function kernelList(k: Record<string, number>): string {
  const parts = Object.entries(k).map(([op, n]) => `${n} ${op}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The report as lines for a person. */
export function formatReport(r: QuantizeReport): string[] {
  const how = r.mode === 'static' ? `static (${r.method}, ${r.perChannel ? 'per-channel' : 'per-tensor'} weights)` : `dynamic (${r.perChannel ? 'per-channel' : 'per-tensor'} weights)`;
  const lines = [
    `${how}: ${r.quantized} Conv/Gemm/MatMul nodes quantized${r.excluded.length ? `, ${r.excluded.length} left float by --exclude` : ''}${r.uncalibrated.length ? `, ${r.uncalibrated.length} left float because no calibration image reached them` : ''}`,
    `onnxruntime runs as integer kernels: ${kernelList(r.kernels.integer)}; float: ${kernelList(r.kernels.float)}`,
    `size ${(r.floatBytes / 1e6).toFixed(1)} MB -> ${(r.int8Bytes / 1e6).toFixed(1)} MB`,
  ];
  for (const [name, c] of Object.entries(r.cosine)) lines.push(`cosine vs float, ${name}: min ${c.min.toFixed(4)}, mean ${c.mean.toFixed(4)} over ${r.images} images`);
  if (r.agreement) lines.push(`${r.agreement.measure}: ${(100 * r.agreement.value).toFixed(2)} % over ${r.images} images`);
  return lines;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description(DESCRIPTIONS['quantize'])
    .option('-c, --config <name>', 'named config or JSON file (or give --model)')
    .option('--set <key=value>', 'override a config value (repeatable)', collect)
    .option('-w, --weights <file>', 'weights (.safetensors or .pth) of --config')
    .option('-m, --model <file>', 'a float32 ONNX file written by `convnext export` instead of --config and --weights')
    .requiredOption('-o, --out <file>', 'output .onnx file')
    .option('--calib <dir>', 'folder of calibration images (static mode; a few dozen representative images)')
    .option('--synth <n>', 'calibrate on n synthetic shape scenes (the demo models\' domain) instead of --calib', positiveInt('--synth'))
    .addOption(new Option('--mode <mode>', 'static: activation ranges from calibration; dynamic: ranges computed at run time').choices(['static', 'dynamic']).default('static'))
    .addOption(new Option('--method <method>', 'static: how ranges are chosen from the calibration data (default minmax)').choices([...CALIBRATION_METHODS]))
    .option('--per-channel', 'one weight scale per output channel (the default)', true)
    .option('--no-per-channel', 'one weight scale per tensor')
    .option('--reduce-range', '7-bit weights (±64), for CPUs without VNNI whose u8s8 kernels can saturate otherwise')
    .option('--exclude <pattern>', 'keep nodes float whose node or weight name matches this regular expression (repeatable)', collect)
    .addOption(new Option('--size <HxW>', 'fixed input size of a graph built from --config (default: classifiers their crop, others dynamic)').conflicts('dynamic'))
    .option('--dynamic', 'dynamic batch, height and width (the default for dense models)')
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--json', 'print the report as JSON on stdout')
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: QuantizeFlags) => {
      if ((f.model === undefined) === (f.config === undefined)) throw new UserError('give --config (with --weights) or --model (an exported float32 ONNX file)');
      if (f.model !== undefined && (f.weights !== undefined || (f.set?.length ?? 0) > 0 || f.size !== undefined || f.dynamic)) throw new UserError('--model takes no --weights, --set, --size or --dynamic');
      if (f.mode === 'dynamic' && f.method !== undefined) throw new UserError('--method applies to static quantization (dynamic mode has no calibration)');
      if (f.calib !== undefined && f.synth !== undefined) throw new UserError('give --calib DIR or --synth N, not both');
      if (f.mode === 'static' && f.calib === undefined && f.synth === undefined) throw new UserError('static quantization needs calibration images: give --calib DIR or --synth N (or --mode dynamic)');
      const calibration = f.calib !== undefined ? await calibrationImages(f.calib) : f.synth !== undefined ? synthImages(f.synth) : [];
      const bars = new Map<string, Progress>();
      const labels = { calibrate: 'calibrating', histogram: 'histograms', compare: 'comparing with float' } as const;
      const { bytes, report } = await quantize({
        config: f.config, set: f.set, weights: f.weights, model: f.model,
        mode: f.mode, method: f.method, perChannel: f.perChannel, reduceRange: f.reduceRange, exclude: f.exclude, calibration,
        size: f.dynamic ? 'dynamic' : f.size ? parseSize(f.size) : undefined, threads: f.threads,
        onProgress: (stage, done, total) => {
          let bar = bars.get(stage);
          if (!bar) bars.set(stage, (bar = progress(labels[stage], total, { unit: 'images' })));
          bar.update(done);
          if (done === total) bar.stop();
        },
      });
      await writeFileAtomic(f.out, bytes);
      if (f.json) console.log(JSON.stringify({ out: f.out, ...report }));
      else for (const l of formatReport(report)) console.log(l);
      console.error(`wrote ${f.out} (${(bytes.length / 1e6).toFixed(1)} MB)`);
    });
}
