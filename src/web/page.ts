/**
 * The page `convnext web` writes: loads the site's exported models (or one the user picks) into
 * onnxruntime-web, runs a picked, dropped, sample or camera image through the shared pre- and
 * post-processing, draws the result on a canvas with a legend and the time per stage, and writes
 * the result as JSON (the library API's shapes) into `<pre id="results">`.
 */
import type { Runner } from '../core/runner.js';
import { UserError } from '../core/errors.js';
import type { RgbImage } from '../image/rgb.js';
import { classColor } from '../tasks/detection/detector-overlay-layout.js';
import type { ExportedDetector, ExportedSegmentor } from '../tasks/exported-model.js';
import { loadModel as loadWebModel } from './index.js';
import { bitmapToRgb, decodeImage } from './decode.js';
import { cssColor, drawDetections, drawLabels } from './draw.js';
import { loadEngine, type WebEngine } from './ort-web.js';
import type { SiteManifest } from './site.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no #${id}`);
  return el as T;
};

const ui = {
  engine: $('engine'),
  model: $<HTMLSelectElement>('model'),
  modelFile: $<HTMLInputElement>('model-file'),
  threshold: $<HTMLInputElement>('threshold'),
  imageFile: $<HTMLInputElement>('image-file'),
  sample: $<HTMLSelectElement>('sample'),
  camera: $<HTMLButtonElement>('camera'),
  capture: $<HTMLButtonElement>('capture'),
  message: $('message'),
  notice: $('notice'),
  canvas: $<HTMLCanvasElement>('canvas'),
  video: $<HTMLVideoElement>('video'),
  legend: $('legend'),
  times: $<HTMLTableElement>('times'),
  results: $('results'),
};

/** A runner that adds up the time spent in the engine. */
class TimedRunner implements Runner {
  ms = 0;
  constructor(private readonly inner: Runner) {}
  async run(...args: Parameters<Runner['run']>): ReturnType<Runner['run']> {
    const t0 = performance.now();
    try {
      return await this.inner.run(...args);
    } finally {
      this.ms += performance.now() - t0;
    }
  }
  dispose(): Promise<void> | void {
    return this.inner.dispose();
  }
}

interface LoadedModel {
  name: string;
  model: ExportedDetector | ExportedSegmentor;
  runner: TimedRunner;
}

const state: { webgpu: boolean; engine?: WebEngine; current?: LoadedModel; image?: { img: RgbImage; name: string; notice?: string; decodeMs: number }; runs: number; busy: Promise<void> } = {
  webgpu: false,
  runs: 0,
  busy: Promise.resolve(),
};

function setState(s: 'idle' | 'busy' | 'done' | 'error'): void {
  ui.results.dataset.state = s;
}

/** One visible line, never an uncaught exception. */
function showError(e: unknown): void {
  const msg = e instanceof UserError ? e.message : `error: ${e instanceof Error ? e.message : String(e)}`;
  ui.message.textContent = msg.split('\n')[0];
  setState('error');
  ui.results.dataset.run = String(++state.runs);
}

/** Runs `job` after the previous one (model loads and image runs never interleave). */
function serial(job: () => Promise<void>): Promise<void> {
  state.busy = state.busy.then(async () => {
    setState('busy');
    ui.message.textContent = '';
    try {
      await job();
    } catch (e) {
      showError(e);
    }
  });
  return state.busy;
}

async function engine(): Promise<WebEngine> {
  if (!state.engine) {
    const params = new URLSearchParams(location.search);
    state.engine = await loadEngine(new URL('ort/', location.href).href, {
      webgpu: state.webgpu && params.get('webgpu') !== '0',
      threads: params.has('threads') ? Number(params.get('threads')) : undefined,
    });
    ui.engine.textContent = state.engine.describe();
  }
  return state.engine;
}

/** Loads ONNX bytes as the current model. */
async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  let runner: TimedRunner | undefined;
  const model = await loadWebModel(await engine(), bytes, name, (r) => (runner = new TimedRunner(r)));
  if (!runner) throw new Error('page: the model has no runner');
  await state.current?.model.dispose();
  state.current = { name, model, runner };
  ui.notice.textContent = `${name}: ${model.kind === 'detector' ? 'detector' : 'segmentor'} with ${model.classNames.length} classes`;
  if (state.image) await runImage();
  else setState('idle');
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new UserError(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function row(name: string, ms: number): string {
  return `<tr><td>${name}</td><td>${ms.toFixed(1)} ms</td></tr>`;
}

function legendItem(color: readonly [number, number, number], text: string): HTMLLIElement {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = 'swatch';
  sw.style.background = cssColor(color);
  li.append(sw, document.createTextNode(text));
  return li;
}

/** Runs the current image through the current model and shows the result. */
async function runImage(): Promise<void> {
  const cur = state.current;
  const im = state.image;
  if (!cur || !im) return;
  cur.runner.ms = 0;
  const t0 = performance.now();
  const common = { model: cur.name, image: { name: im.name, width: im.img.width, height: im.img.height } };
  let json: unknown;
  let drawMs: number;
  ui.legend.replaceChildren();
  if (cur.model.kind === 'detector') {
    const threshold = Number(ui.threshold.value);
    const { objects, result } = await cur.model.detect(im.img, { threshold: Number.isFinite(threshold) ? threshold : undefined });
    const total = performance.now() - t0;
    const d0 = performance.now();
    drawDetections(ui.canvas, im.img, result);
    drawMs = performance.now() - d0;
    const counts = new Map<number, number>();
    for (const o of objects) counts.set(o.labelId, (counts.get(o.labelId) ?? 0) + 1);
    for (const [id, n] of counts) ui.legend.append(legendItem(classColor(id), `${cur.model.classNames[id] ?? id} × ${n}`));
    json = { task: 'object-detection', ...common, result: objects };
    showTimes(im.decodeMs, total - cur.runner.ms, cur.runner.ms, drawMs);
  } else {
    const { segmentation, prediction } = await cur.model.segment(im.img);
    const total = performance.now() - t0;
    const d0 = performance.now();
    const palette = cur.model.segmentor.palette;
    drawLabels(ui.canvas, im.img, prediction.labels, palette);
    drawMs = performance.now() - d0;
    for (const c of segmentation.classes) ui.legend.append(legendItem(palette[c.labelId] ?? [0, 0, 0], `${c.label} ${(100 * c.share).toFixed(1)} %`));
    json = { task: 'image-segmentation', ...common, result: { ...segmentation, labels: Array.from(segmentation.labels) } };
    showTimes(im.decodeMs, total - cur.runner.ms, cur.runner.ms, drawMs);
  }
  ui.canvas.hidden = false;
  ui.results.textContent = JSON.stringify(json);
  ui.results.dataset.run = String(++state.runs);
  setState('done');
}

function showTimes(decode: number, prepost: number, inference: number, draw: number): void {
  ui.times.innerHTML = row('decode', decode) + row('pre/post-processing', prepost) + row('inference', inference) + row('draw', draw);
  ui.times.dataset.inferenceMs = inference.toFixed(2);
  ui.times.dataset.totalMs = (prepost + inference).toFixed(2);
}

/** Decodes an image file and runs it. */
async function openImage(file: Blob, name: string): Promise<void> {
  const t0 = performance.now();
  const { image, notice } = await decodeImage(file, name);
  state.image = { img: image, name, notice, decodeMs: performance.now() - t0 };
  ui.notice.textContent = notice ?? '';
  if (!state.current) throw new UserError('no model loaded: pick a model or an .onnx file first');
  await runImage();
}

async function openModelFile(file: File): Promise<void> {
  await loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
  ui.model.value = '';
}

let stream: MediaStream | undefined;

async function startCamera(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new UserError('camera: this browser gives no camera access (it needs https or localhost)');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (e) {
    throw new UserError(`camera: ${(e as Error).message}`);
  }
  ui.video.srcObject = stream;
  ui.video.hidden = false;
  ui.capture.hidden = false;
  await ui.video.play();
}

async function captureFrame(): Promise<void> {
  const bmp = await createImageBitmap(ui.video);
  const img = bitmapToRgb(bmp);
  bmp.close();
  state.image = { img, name: 'camera', decodeMs: 0 };
  ui.notice.textContent = '';
  await runImage();
}

async function init(): Promise<void> {
  const manifest = (await (await fetch('site.json')).json()) as SiteManifest;
  state.webgpu = manifest.webgpu;
  for (const m of manifest.models) {
    const opt = document.createElement('option');
    opt.value = m.file;
    opt.textContent = `${m.name} (${m.task}, ${m.weights}, ${(m.bytes / 1e6).toFixed(1)} MB)`;
    ui.model.append(opt);
  }
  for (const s of manifest.samples) {
    const opt = document.createElement('option');
    opt.value = s;
    opt.textContent = s.split('/').pop() ?? s;
    ui.sample.append(opt);
  }
  ui.model.addEventListener('change', () => {
    if (ui.model.value) void serial(async () => loadModel(await fetchBytes(ui.model.value), ui.model.value));
  });
  ui.modelFile.addEventListener('change', () => {
    const f = ui.modelFile.files?.[0];
    ui.modelFile.value = ''; // picking the same file again runs it again
    if (f) void serial(() => openModelFile(f));
  });
  ui.imageFile.addEventListener('change', () => {
    const f = ui.imageFile.files?.[0];
    ui.imageFile.value = '';
    if (f) void serial(() => openImage(f, f.name));
  });
  ui.sample.addEventListener('change', () => {
    const s = ui.sample.value;
    if (s) void serial(async () => openImage(new Blob([await fetchBytes(s) as Uint8Array<ArrayBuffer>]), s));
  });
  ui.threshold.addEventListener('change', () => void serial(runImage));
  ui.camera.addEventListener('click', () => void serial(startCamera));
  ui.capture.addEventListener('click', () => void serial(captureFrame));
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const f = e.dataTransfer?.files[0];
    if (f) void serial(() => (f.name.toLowerCase().endsWith('.onnx') ? openModelFile(f) : openImage(f, f.name)));
  });
  const first = new URLSearchParams(location.search).get('model') ?? manifest.models[0]?.file;
  if (first) {
    ui.model.value = first;
    await loadModel(await fetchBytes(first), first);
  } else {
    ui.engine.textContent = (await engine()).describe();
  }
}

window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  showError(e.reason);
});
void serial(init).then(() => {
  document.body.dataset.ready = '1';
});
