/**
 * The site `convnext web` writes, in a real browser: headless Chromium (Debian's `chromium`,
 * which .ci/run installs) driven by puppeteer-core loads the page from a local server with the
 * cross-origin isolation headers, runs the bundled demo detector and segmentor on every bundled
 * sample with onnxruntime-web (WebAssembly), and its JSON must equal the Node pipeline's on the
 * same ONNX files (onnxruntime-node): the same labels, boxes within 0.5 px, masks and label maps
 * (≥ 99.9 % of pixels) equal. Bad inputs give one visible line; the console stays free of errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sharp from 'sharp';
import { decodeRle, decompressRle } from '../../src/io/coco/rle.js';
import { pipeline } from '../../src/pipeline/index.js';
import type { DetectedObject, SemanticSegmentation } from '../../src/pipeline/types.js';
import { serveSite } from '../../src/cli/commands/web.js';
import type { SiteManifest } from '../../src/web/site.js';
import { runCli } from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SAMPLES = new URL('../../assets/demo/shapes/', import.meta.url).pathname;

interface PageResult<T> {
  task: string;
  model: string;
  image: { name: string; width: number; height: number };
  result: T;
}

let dir: string;
let site: SiteManifest;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** Evaluates a JavaScript expression in the page (strings keep DOM types out of the Node type check). */
const evaluate = <T>(expr: string) => page.evaluate(expr) as Promise<T>;
const results = "document.getElementById('results')";

/** Runs `action` and waits for the page's next finished run (done or error); returns its state. */
async function nextRun(action: () => Promise<unknown>): Promise<'done' | 'error'> {
  const before = await evaluate<number>(`Number(${results}.dataset.run)`);
  await action();
  await page.waitForFunction(`Number(${results}.dataset.run) > ${before} && ['done', 'error'].includes(${results}.dataset.state)`, { timeout: 120_000 });
  return evaluate<'done' | 'error'>(`${results}.dataset.state`);
}

async function upload(selector: string, file: string): Promise<'done' | 'error'> {
  const input = (await page.$(selector)) as unknown as { uploadFile(...paths: string[]): Promise<void> };
  return nextRun(() => input.uploadFile(file));
}

async function pageJson<T>(): Promise<PageResult<T>> {
  return JSON.parse(await evaluate<string>(`${results}.textContent`)) as PageResult<T>;
}

const text = (sel: string) => evaluate<string>(`document.querySelector(${JSON.stringify(sel)}).textContent ?? ''`);

function maskIou(a: DetectedObject['mask'], b: DetectedObject['mask']): number {
  const ma = decodeRle(decompressRle(a!));
  const mb = decodeRle(decompressRle(b!));
  let inter = 0;
  let union = 0;
  for (let i = 0; i < ma.length; i++) {
    inter += ma[i] & mb[i];
    union += ma[i] | mb[i];
  }
  return union === 0 ? 1 : inter / union;
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium); or set CHROMIUM_PATH`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'convnext-web-'));
  const r = await runCli(['web', '--out', dir, '--no-webgpu']);
  expect(r.code, r.stderr).toBe(0);
  site = JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8')) as SiteManifest;
  server = await serveSite(dir, '127.0.0.1', 0);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${(e as Error).message}`));
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('convnext web in headless Chromium', () => {
  it('writes the page, onnxruntime-web, both demo models and the samples; loads cross-origin isolated with WebAssembly threads', async () => {
    expect(site.models.map((m) => m.task)).toEqual(['object-detection', 'image-segmentation']);
    for (const m of site.models) expect(readFileSync(join(dir, m.file)).length).toBe(m.bytes);
    expect(readdirSync(join(dir, 'ort')).sort()).toEqual(['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort.wasm.min.mjs']);
    expect(site.samples).toHaveLength(4);
    expect(await page.evaluate('crossOriginIsolated')).toBe(true);
    const threads = Math.min(4, (await page.evaluate('navigator.hardwareConcurrency')) as number);
    expect(await text('#engine')).toContain(`wasm, ${threads} thread`);
    expect(await text('#message')).toBe('');
  });

  it('detections of every sample equal the Node pipeline on the same ONNX file (labels, boxes within 0.5 px, masks)', async () => {
    const model = join(dir, site.models[0].file);
    await using detect = await pipeline('object-detection', { model });
    for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort()) {
      expect(await upload('#image-file', join(SAMPLES, file))).toBe('done');
      const web = await pageJson<DetectedObject[]>();
      const node = await detect(join(SAMPLES, file));
      expect(web.task).toBe('object-detection');
      expect(web.image).toEqual({ name: file, width: 320, height: 320 });
      expect(node.length, file).toBeGreaterThan(0);
      expect(web.result.map((o) => o.label), file).toEqual(node.map((o) => o.label));
      web.result.forEach((o, i) => {
        const n = node[i];
        for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(o.box[k] - n.box[k]), `${file} #${i} ${k}`).toBeLessThanOrEqual(0.5);
        expect(Math.abs(o.score - n.score), `${file} #${i} score`).toBeLessThan(1e-3);
        expect(maskIou(o.mask, n.mask), `${file} #${i} mask IoU`).toBeGreaterThanOrEqual(0.99);
      });
      // The canvas shows the picture at ≥ 512 px; the legend lists the classes found.
      expect(await page.evaluate('Math.max(canvas.width, canvas.height)')).toBeGreaterThanOrEqual(512);
      for (const o of node) expect(await text('#legend')).toContain(o.label);
      expect(await text('#times')).toMatch(/inference\s*[\d.]+ ms/);
    }
  });

  it('label maps of every sample equal the Node pipeline on the same ONNX file (≥ 99.9 % of pixels)', async () => {
    const model = join(dir, site.models[1].file);
    await using segment = await pipeline('image-segmentation', { model });
    expect(await nextRun(() => page.select('#model', site.models[1].file))).toBe('done');
    for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort()) {
      expect(await upload('#image-file', join(SAMPLES, file))).toBe('done');
      const web = await pageJson<Omit<SemanticSegmentation, 'labels'> & { labels: number[] }>();
      const node = await segment(join(SAMPLES, file));
      expect(web.task).toBe('image-segmentation');
      expect([web.result.width, web.result.height]).toEqual([node.width, node.height]);
      let same = 0;
      for (let i = 0; i < node.labels.length; i++) same += web.result.labels[i] === node.labels[i] ? 1 : 0;
      expect(same / node.labels.length, file).toBeGreaterThanOrEqual(0.999);
      expect(web.result.classes.map((c) => c.label).sort()).toEqual(node.classes.map((c) => c.label).sort());
      for (const c of node.classes) expect(await text('#legend')).toContain(c.label);
    }
  });

  it('fp16 and int8 (dynamic) exports picked as files run in the page and agree with the Node pipeline on the same files', async () => {
    const weights = new URL('../../assets/demo/upernet_convnext-synth.safetensors', import.meta.url).pathname;
    const variants = [
      { file: join(dir, 'seg.fp16.onnx'), args: ['export', '-c', 'demo_upernet_convnext-synth', '-w', weights, '--dynamic', '--weights-dtype', 'float16'] },
      { file: join(dir, 'seg.int8.onnx'), args: ['quantize', '-c', 'demo_upernet_convnext-synth', '-w', weights, '--mode', 'dynamic'] },
    ];
    const sample = join(SAMPLES, 'shapes_1.png');
    for (const v of variants) {
      const r = await runCli([...v.args, '-o', v.file]);
      expect(r.code, r.stderr).toBe(0);
      expect(await upload('#model-file', v.file)).toBe('done'); // runs the current image
      expect(await upload('#image-file', sample)).toBe('done');
      const web = await pageJson<{ labels: number[] }>();
      await using segment = await pipeline('image-segmentation', { model: v.file });
      const node = await segment(sample);
      let same = 0;
      for (let i = 0; i < node.labels.length; i++) same += web.result.labels[i] === node.labels[i] ? 1 : 0;
      expect(same / node.labels.length, v.file).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('bad input: a non-image file, a model that is not ONNX, an ONNX file without convnext metadata, a classifier; one visible line each', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(`${bad}.png`, 'this is text, not a picture');
    expect(await upload('#image-file', `${bad}.png`)).toBe('error');
    expect(await text('#message')).toBe('bad.png: not an image this browser can decode (expected JPEG, PNG, WebP, GIF, AVIF or BMP)');
    writeFileSync(`${bad}.onnx`, 'not a model at all');
    expect(await upload('#model-file', `${bad}.onnx`)).toBe('error');
    expect(await text('#message')).toMatch(/^bad\.onnx: not a readable ONNX model/);
    // The graph of a model without metadata_props (a real ONNX file, only not ours).
    const { buildOnnx } = await import('../../src/core/ort/build.js');
    const { Classifier } = await import('../../src/tasks/classification/classifier.js');
    const { initWeights } = await import('../../src/core/weights.js');
    const { resolveConfig } = await import('../../configs/index.js');
    const cls = new Classifier(resolveConfig('test_convnext-t-narrow_cls10') as never);
    const net = cls.network();
    writeFileSync(join(dir, 'plain.onnx'), buildOnnx(net, initWeights(net.registry, 0), { size: [32, 32] }));
    expect(await upload('#model-file', join(dir, 'plain.onnx'))).toBe('error');
    expect(await text('#message')).toMatch(/^plain\.onnx: no convnext metadata/);
    const r = await runCli(['export', '-c', 'test_convnext-t-narrow_cls10', '-w', new URL('../../assets/demo/convnext-t-narrow_cls10.safetensors', import.meta.url).pathname, '-o', join(dir, 'cls.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(await upload('#model-file', join(dir, 'cls.onnx'))).toBe('error');
    expect(await text('#message')).toBe('cls.onnx: a classifier model; this runs detectors and segmentors');
    for (const m of ['#message']) expect((await text(m)).split('\n')).toHaveLength(1);
  });

  it('a huge image is downscaled with a notice and still detected', async () => {
    expect(await nextRun(() => page.select('#model', site.models[0].file))).toBe('done');
    const big = join(dir, 'big.png');
    // 6000 × 4000: a bright square on a dark field (compresses to a few kB).
    await sharp({ create: { width: 6000, height: 4000, channels: 3, background: { r: 20, g: 20, b: 30 } } })
      .composite([{ input: { create: { width: 1500, height: 1500, channels: 3, background: { r: 230, g: 40, b: 40 } } }, left: 2000, top: 1000 }])
      .png().toFile(big);
    expect(await upload('#image-file', big)).toBe('done');
    expect(await text('#notice')).toBe('big.png: 6000×4000 is larger than 4096 px on the long side; downscaled to 4096×2731');
    const web = await pageJson<DetectedObject[]>();
    expect(web.image).toEqual({ name: 'big.png', width: 4096, height: 2731 });
    for (const o of web.result) expect(o.mask?.size).toEqual([2731, 4096]);
  });

  it('the camera (Chromium\'s fake capture device): a captured frame is detected', async () => {
    await page.click('#camera');
    await page.waitForFunction("!document.getElementById('capture').hidden && document.getElementById('video').videoWidth > 0", { timeout: 30_000 });
    const [w, h] = await evaluate<[number, number]>("[document.getElementById('video').videoWidth, document.getElementById('video').videoHeight]");
    expect(await nextRun(() => page.click('#capture'))).toBe('done');
    const web = await pageJson<DetectedObject[]>();
    expect(web.task).toBe('object-detection');
    expect(web.image).toEqual({ name: 'camera', width: w, height: h });
    expect(Array.isArray(web.result)).toBe(true);
  });

  it('the page logged no console errors and threw no uncaught exception', () => {
    expect(consoleErrors).toEqual([]);
  });
});
