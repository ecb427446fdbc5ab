/**
 * The demo models in headless Chromium (onnxruntime-web, WebAssembly SIMD, threads when the page is
 * cross-origin isolated) against onnxruntime-node in this process, on the bundled samples.
 *
 *   npx tsx tools/bench_web.ts [--rounds 10] [--chromium /usr/bin/chromium]
 *
 * Per model: after two warm-up runs each, browser and Node runs alternate `rounds` times per sample;
 * the time of one image is pre-processing + inference + post-processing (the page's own stage
 * times; decoding and drawing excluded on both sides). Reports medians and the browser / Node
 * ratio, the page's JavaScript size (minified and gzipped, onnxruntime-web's files excluded) and
 * the download size of each demo model as fp32, fp16 and int8 (dynamic) exports.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { serveSite, writeSite } from '../src/cli/commands/web.js';
import { readRgb } from '../src/io/image.js';
import { pipeline } from '../src/pipeline/index.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' } } });
const ROUNDS = Number(args.rounds);
const SAMPLES = fileURLToPath(new URL('../assets/demo/shapes/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../assets/demo/', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'convnext-bench-web-'));
const site = await writeSite(dir, { webgpu: false, weightsDtype: 'float32' });
const server = await serveSite(dir, '127.0.0.1', 0);
const browser = await puppeteer.launch({ executablePath: args.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
const results = "document.getElementById('results')";
const evaluate = <T>(expr: string) => page.evaluate(expr) as Promise<T>;

async function pageRun(action: () => Promise<unknown>): Promise<number> {
  const before = await evaluate<number>(`Number(${results}.dataset.run)`);
  await action();
  await page.waitForFunction(`Number(${results}.dataset.run) > ${before} && ['done', 'error'].includes(${results}.dataset.state)`, { timeout: 300_000 });
  if ((await evaluate<string>(`${results}.dataset.state`)) !== 'done') throw new Error(await evaluate<string>("document.getElementById('message').textContent"));
  return Number(await evaluate<string>("document.getElementById('times').dataset.totalMs"));
}

/** Re-runs the page's current image (a threshold change re-runs it). */
const rerun = () => pageRun(() => page.evaluate("(() => { const t = document.getElementById('threshold'); t.value = String(0.3 + Math.random() * 1e-6); t.dispatchEvent(new Event('change')); })()"));

try {
  await page.goto(`${server.url}?model=${site.models[0].file}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  const engine = await evaluate<string>("document.getElementById('engine').textContent");
  console.log(`CPU: ${cpus()[0].model}, ${cpus().length} cores; Chromium: ${await browser.version()}; page: ${engine}`);
  const samples = readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort();
  for (const [k, m] of site.models.entries()) {
    if (k > 0) await pageRun(() => page.select('#model', m.file));
    const task = m.task;
    await using node = await pipeline(task, { model: join(dir, m.file) });
    const web: number[] = [];
    const nat: number[] = [];
    for (const s of samples) {
      const input = (await page.$('#image-file')) as unknown as { uploadFile(p: string): Promise<void> };
      await pageRun(() => input.uploadFile(join(SAMPLES, s)));
      const img = await readRgb(join(SAMPLES, s));
      for (let w = 0; w < 2; w++) {
        await rerun();
        await node(img);
      }
      for (let r = 0; r < ROUNDS; r++) {
        web.push(await rerun());
        const t0 = performance.now();
        await node(img);
        nat.push(performance.now() - t0);
      }
    }
    const [b, n] = [median(web), median(nat)];
    console.log(`${m.name} (${task}) 320×320: browser ${b.toFixed(1)} ms, onnxruntime-node ${n.toFixed(1)} ms per image (median of ${web.length}); browser / Node ${(b / n).toFixed(2)}×`);
  }
  const js = readFileSync(join(dir, 'page.js'));
  console.log(`page JavaScript: ${(js.length / 1e3).toFixed(0)} kB minified, ${(gzipSync(js, { level: 9 }).length / 1e3).toFixed(0)} kB gzipped (onnxruntime-web's ort.wasm.min.mjs ${(statSync(join(dir, 'ort', 'ort.wasm.min.mjs')).size / 1e3).toFixed(0)} kB and .wasm ${(statSync(join(dir, 'ort', 'ort-wasm-simd-threaded.wasm')).size / 1e6).toFixed(1)} MB not counted)`);
  for (const [cfg, weights] of [['demo_mask-rcnn_convnext-synth', 'mask-rcnn_convnext-synth.safetensors'], ['demo_upernet_convnext-synth', 'upernet_convnext-synth.safetensors']]) {
    const base = ['-c', cfg, '-w', join(ASSETS, weights)];
    const fp16 = join(dir, `${cfg}.fp16.onnx`);
    const int8 = join(dir, `${cfg}.int8.onnx`);
    execFileSync(process.execPath, [BIN, 'export', ...base, '--dynamic', '--weights-dtype', 'float16', ...(cfg.includes('mask') ? ['--image-size-input'] : []), '-o', fp16], { stdio: 'ignore' });
    execFileSync(process.execPath, [BIN, 'quantize', ...base, '--mode', 'dynamic', '-o', int8], { stdio: 'ignore' });
    const fp32 = join(dir, site.models.find((x) => x.name === cfg)!.file);
    const size = (f: string) => { const b = readFileSync(f); return `${(b.length / 1e6).toFixed(2)} MB (${(gzipSync(b).length / 1e6).toFixed(2)} MB gzipped)`; };
    console.log(`${cfg} download: fp32 ${size(fp32)}, fp16 ${size(fp16)}, int8 ${size(int8)}`);
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
