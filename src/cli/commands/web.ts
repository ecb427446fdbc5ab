/**
 * `convnext web`: a static site that runs exported detectors and segmentors in the browser with
 * onnxruntime-web (the page bundled at build time in dist/web, onnxruntime-web's module and
 * WebAssembly files, the ONNX models, sample images and a site.json manifest), optionally served on
 * localhost with the headers cross-origin isolation needs (threads in WebAssembly).
 */
import { type Command, Option } from 'commander';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { isDetectorConfig } from '../../config/detector.js';
import { assetPath, packageRoot } from '../../io/assets.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { DEMO_MODELS } from '../../pipeline/models.js';
import { resolveConfig } from '../../../configs/index.js';
import { exportGraph, exportNetwork } from '../../tasks/export-onnx.js';
import type { SiteManifest, SiteModel } from '../../web/site.js';
import { collect, readModelFile, weightsFor } from '../common.js';
import { DESCRIPTIONS } from './descriptions.js';

interface WebFlags {
  out: string;
  model?: string[];
  weightsDtype: 'float32' | 'float16';
  webgpu: boolean;
  serve?: boolean;
  host: string;
  port: number;
  verbose?: boolean;
}

/** onnxruntime-web's files the page loads: the WebAssembly build, and the WebGPU build (with its own .wasm). */
const ORT_WASM = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const ORT_WEBGPU = ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

function ortDist(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** Exports a bundled demo model (dynamic height and width; the detector with its image_size input) into `dir`. */
async function demoModel(task: 'object-detection' | 'image-segmentation', dir: string, dtype: WebFlags['weightsDtype']): Promise<SiteModel> {
  const demo = DEMO_MODELS[task];
  const cfg = resolveConfig(demo.config);
  const det = isDetectorConfig(cfg);
  const net = exportNetwork(cfg, det);
  const weights = await weightsFor(net.registry, assetPath('demo', demo.weights), { quiet: true });
  const bytes = exportGraph(cfg, net, weights, { name: demo.config, size: null, batch: det ? 1 : 'batch', imageSizeInput: det, weightsDtype: dtype });
  const file = `models/${demo.config}${dtype === 'float16' ? '.fp16' : ''}.onnx`;
  await writeFileAtomic(join(dir, file), bytes);
  return { name: demo.config, file, task, bytes: bytes.length, weights: dtype };
}

/** Copies a user's exported model into `dir` after checking it is a detector or segmentor with our metadata. */
async function userModel(path: string, dir: string, taken: Set<string>): Promise<SiteModel> {
  const m = await readModelFile(path);
  const type = m.config.type;
  if (!isDetectorConfig(m.config) && type !== 'segmentor') throw new UserError(`${path}: a ${type} model; the web page runs detectors and segmentors`);
  if (m.info.inputs.some((i) => i.name === 'orig_size')) throw new UserError(`${path}: masks pasted in the graph (export --paste-masks, for Triton clients); the web page runs detector exports without it`);
  let name = basename(path);
  for (let i = 2; taken.has(name); i++) name = `${basename(path, '.onnx')}-${i}.onnx`;
  taken.add(name);
  const file = `models/${name}`;
  await writeFileAtomic(join(dir, file), m.bytes);
  const md = m.info.metadata;
  let mode = '';
  try {
    mode = md['convnext.quantization'] ? ` ${(JSON.parse(md['convnext.quantization']) as { mode?: string }).mode ?? ''}` : '';
  } catch {
    // a malformed note only loses the mode in the menu
  }
  return {
    name: `${md['convnext.config_name'] ?? basename(path, '.onnx')} (${basename(path)})`,
    file,
    task: type === 'segmentor' ? 'image-segmentation' : 'object-detection',
    bytes: m.bytes.length,
    weights: `${md['convnext.weights_dtype'] ?? 'float32'}${mode}`.trim(),
  };
}

/** Writes the site into `dir`; returns its manifest. */
export async function writeSite(dir: string, f: Pick<WebFlags, 'model' | 'weightsDtype' | 'webgpu'>): Promise<SiteManifest> {
  const page = join(packageRoot(), 'dist', 'web');
  if (!existsSync(join(page, 'page.js'))) throw new UserError(`${page}/page.js is missing: build the package first (npm run build)`);
  await mkdir(join(dir, 'ort'), { recursive: true });
  await mkdir(join(dir, 'models'), { recursive: true });
  await mkdir(join(dir, 'samples'), { recursive: true });
  for (const file of await readdir(page)) await copyFile(join(page, file), join(dir, file));
  const ort = ortDist();
  for (const file of [...ORT_WASM, ...(f.webgpu ? ORT_WEBGPU : [])]) await copyFile(join(ort, file), join(dir, 'ort', file));
  const models: SiteModel[] = [];
  if (f.model?.length) {
    const taken = new Set<string>();
    for (const m of f.model) models.push(await userModel(m, dir, taken));
  } else {
    models.push(await demoModel('object-detection', dir, f.weightsDtype));
    models.push(await demoModel('image-segmentation', dir, f.weightsDtype));
  }
  const shapes = assetPath('demo', 'shapes');
  const samples: string[] = [];
  for (const file of (await readdir(shapes)).filter((x) => x.endsWith('.png')).sort()) {
    await copyFile(join(shapes, file), join(dir, 'samples', file));
    samples.push(`samples/${file}`);
  }
  const manifest: SiteManifest = { models, samples, webgpu: f.webgpu };
  await writeFileAtomic(join(dir, 'site.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Serves `dir` on host:port with Cross-Origin-Opener-Policy same-origin and
 * Cross-Origin-Embedder-Policy require-corp (the page is then cross-origin isolated and
 * onnxruntime-web may use threads). Resolves with the address once listening.
 */
export async function serveSite(dir: string, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const [{ default: Fastify }, { default: fastifyStatic }] = await Promise.all([import('fastify'), import('@fastify/static')]);
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Cache-Control', 'no-cache');
  });
  await app.register(fastifyStatic, { root: resolve(dir), index: ['index.html'] });
  const address = await app.listen({ host, port });
  return { url: `${address}/`, close: () => app.close() };
}

export function register(program: Command): void {
  program
    .command('web')
    .description(DESCRIPTIONS['web'])
    .requiredOption('-o, --out <dir>', 'the site folder to write')
    .option('-m, --model <file.onnx>', 'an exported detector or segmentor (convnext export / quantize) to include instead of the demo models (repeatable)', collect)
    .addOption(new Option('--weights-dtype <dtype>', 'the demo models\' weights: float16 halves the download').choices(['float32', 'float16']).default('float32'))
    .option('--no-webgpu', 'leave out the WebGPU build of onnxruntime-web (29 MB): WebAssembly only')
    .option('--serve', 'serve the site on --host:--port with cross-origin isolation headers until interrupted')
    .option('--host <host>', 'address to serve on', '127.0.0.1')
    .option('--port <n>', 'port to serve on (0: any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UserError(`--port expects 0–65535, got '${v}'`);
      return n;
    }, 8080)
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: WebFlags) => {
      const m = await writeSite(f.out, f);
      const mb = (n: number) => (n / 1e6).toFixed(1);
      console.error(`wrote ${f.out}: ${m.models.map((x) => `${x.file} (${mb(x.bytes)} MB)`).join(', ')}, ${m.samples.length} sample images`);
      if (!f.serve) {
        console.error(`serve it with \`convnext web --out ${f.out} --serve\` (or any static server sending COOP/COEP headers for threads)`);
        return;
      }
      const server = await serveSite(f.out, f.host, f.port);
      console.error(`serving ${server.url} (cross-origin isolated; Ctrl-C stops)`);
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
