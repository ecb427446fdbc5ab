/**
 * `convnext serve` on an ephemeral port: every endpoint against the library API's own results,
 * dynamic batching visible in the batch-size metric, 429 on a full queue, 503 on timeout, bad
 * inputs interleaved with good ones (each gets its own answer), health/readiness/metrics/OpenAPI,
 * and the CLI's SIGTERM drain.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { pipeline } from '../../src/pipeline/index.js';
import type { Pipeline, Task } from '../../src/pipeline/types.js';
import type { DetectedObject } from '../../src/tasks/results.js';
import { expectObjectsClose } from '../det-results.js';
import { buildApp, type ServeOptions } from '../../src/serve/app.js';
import type { Endpoint } from '../../src/serve/endpoints.js';
import { pngClaiming } from '../hostile/craft.js';
import { UserError } from '../../src/core/errors.js';

type RgbImageLike = { width: number; height: number };

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const IMAGES = [0, 1, 2, 3].map((i) => readFileSync(join(ASSETS, 'shapes', `shapes_${i}.png`)));
const CAT = readFileSync(join(ASSETS, 'chelsea.jpg'));

type Started = Awaited<ReturnType<typeof buildApp>> & { url: string };
const started: Started[] = [];
const pipes: Array<Pipeline<Task>> = [];

async function serve(endpoint: Endpoint, pipe: Pipeline<Task>, over: Partial<ServeOptions> = {}): Promise<Started> {
  const s = await buildApp({ endpoint, pipelines: [pipe], modelName: `demo ${endpoint}`, maxBatch: 8, maxDelayMs: 20, maxQueue: 64, timeoutMs: 30_000, bodyLimit: 8 << 20, ...over });
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  s.markReady();
  const out = { ...s, url };
  started.push(out);
  return out;
}

const post = (url: string, body: Uint8Array | string, type = 'image/png'): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

let det: Pipeline<'object-detection'>;
let cls: Pipeline<'image-classification'>;
beforeAll(async () => {
  det = await pipeline('object-detection', { threads: 1 });
  cls = await pipeline('image-classification', { threads: 1 });
  pipes.push(det as Pipeline<Task>, cls as Pipeline<Task>);
});
afterAll(async () => {
  for (const s of started) await s.app.close();
  for (const p of pipes) await p.dispose();
});

describe('endpoints answer in the library API shapes', () => {
  it('POST /v1/detect (raw body and multipart) equals the pipeline; query options apply', async () => {
    const s = await serve('detect', det as Pipeline<Task>);
    const ref = await det(IMAGES[1], { threshold: 0.5, mask: false });
    const r = await post(`${s.url}/v1/detect?threshold=0.5&mask=false`, IMAGES[1]);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ instances: JSON.parse(JSON.stringify(ref)) });
    const form = new FormData();
    form.append('file', new Blob([IMAGES[1]], { type: 'image/png' }), 'shapes_1.png');
    const m = await fetch(`${s.url}/v1/detect?threshold=0.5&mask=false`, { method: 'POST', body: form });
    expect(await m.json()).toEqual({ instances: JSON.parse(JSON.stringify(ref)) });
    const withMasks = (await (await post(`${s.url}/v1/detect`, IMAGES[1])).json()) as { instances: Array<{ mask: { size: number[]; counts: string } }> };
    expect(withMasks.instances[0].mask.size).toEqual([320, 320]);
    // ?overlay=1: the overlay PNG convnext detect draws (at least 512 px on the long side).
    const ov = await post(`${s.url}/v1/detect?overlay=true&threshold=0.5`, IMAGES[1]);
    expect(ov.status).toBe(200);
    expect(ov.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await ov.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeGreaterThanOrEqual(512);
  });

  it('POST /v1/classify, /v1/segment and /v1/features', async () => {
    const c = await serve('classify', cls as Pipeline<Task>);
    const top = (await (await post(`${c.url}/v1/classify?topk=3`, CAT, 'image/jpeg')).json()) as { classes: Array<{ labelId: number; score: number }> };
    const ref = await cls(CAT, { topk: 3 });
    expect(top.classes.map((x) => x.labelId)).toEqual(ref.map((x) => x.labelId));
    top.classes.forEach((x, i) => expect(x.score).toBeCloseTo(ref[i].score, 6));

    const seg = await pipeline('image-segmentation', { threads: 1 });
    const feats = await pipeline('image-feature-extraction', { threads: 1 });
    pipes.push(seg as Pipeline<Task>, feats as Pipeline<Task>);
    const s = await serve('segment', seg as Pipeline<Task>);
    const sr = (await (await post(`${s.url}/v1/segment`, IMAGES[2])).json()) as { width: number; height: number; classes: unknown[]; labels_png: string };
    const sref = await seg(IMAGES[2]);
    expect(sr.classes).toEqual(sref.classes);
    const ov = await post(`${s.url}/v1/segment?overlay=1`, IMAGES[2]);
    expect(ov.headers.get('content-type')).toBe('image/png');
    expect((await sharp(Buffer.from(await ov.arrayBuffer())).metadata()).format).toBe('png');
    const { decodeLabelPng } = await import('../../src/io/label-png.js');
    const labels = decodeLabelPng(Buffer.from(sr.labels_png, 'base64'), 'labels');
    expect(Array.from(labels.data)).toEqual(Array.from(sref.labels));

    const f = await serve('features', feats as Pipeline<Task>);
    const fr = (await (await post(`${f.url}/v1/features`, IMAGES[0])).json()) as { levels: Record<string, { shape: number[]; data: string }> };
    const fref = await feats(IMAGES[0]);
    expect(Object.keys(fr.levels)).toEqual(Object.keys(fref));
    const p3 = Buffer.from(fr.levels.p3.data, 'base64');
    expect(new Float32Array(p3.buffer, p3.byteOffset, p3.byteLength / 4)).toEqual(fref.p3.data);
  });

  it('health, readiness, metrics, OpenAPI and a helpful 404', async () => {
    const s = await buildApp({ endpoint: 'detect', pipelines: [det as Pipeline<Task>], modelName: 'demo', maxBatch: 1, maxDelayMs: 0, maxQueue: 4, timeoutMs: 1000, bodyLimit: 1 << 20 });
    const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
    started.push({ ...s, url });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    s.markReady();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/detect');
    const nf = await post(`${url}/v1/classify`, IMAGES[0]);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: string }).error).toMatch(/this server runs demo: POST \/v1\/detect/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/convnext_requests_total\{route="\/readyz",status="503"\} 1/);
    expect(metrics).toMatch(/# TYPE convnext_request_duration_seconds histogram/);
  });
});

describe('batching, back-pressure and bad input', () => {
  it('concurrent requests are grouped (batch-size metric) and each gets its own result', async () => {
    const s = await serve('classify', cls as Pipeline<Task>, { maxBatch: 8, maxDelayMs: 300 });
    const bodies = [CAT, IMAGES[0], CAT, IMAGES[1], IMAGES[2], CAT];
    const res = await Promise.all(bodies.map((b) => post(`${s.url}/v1/classify?topk=1`, b)));
    const json = (await Promise.all(res.map((r) => r.json()))) as Array<{ classes: Array<{ labelId: number }> }>;
    for (const [i, b] of bodies.entries()) expect(json[i].classes[0].labelId).toBe((await cls(b, { topk: 1 }))[0].labelId);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(Number(/convnext_batch_size_count (\d+)/.exec(m)?.[1])).toBeLessThan(6); // grouped: fewer runs than requests
    expect(Number(/convnext_batch_size_sum (\d+)/.exec(m)?.[1])).toBe(6);
  });

  it('a full queue answers 429 with Retry-After; the accepted requests succeed', async () => {
    const s = await serve('detect', det as Pipeline<Task>, { maxBatch: 1, maxDelayMs: 0, maxQueue: 1 });
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => post(`${s.url}/v1/detect?mask=false`, IMAGES[i % 4])));
    const codes = res.map((r) => r.status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(2);
    expect(codes.every((c) => c === 200 || c === 429)).toBe(true);
    expect(res.find((r) => r.status === 429)!.headers.get('retry-after')).toBe('1');
  });

  it('a request past its time gets 503', async () => {
    const s = await serve('detect', det as Pipeline<Task>, { timeoutMs: 1, maxDelayMs: 50 });
    const r = await post(`${s.url}/v1/detect`, IMAGES[0]);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toMatch(/timed out after 1 ms/);
  });

  it('bad inputs interleaved with good ones: each bad one its 4xx, each good one its result', async () => {
    const s = await serve('detect', det as Pipeline<Task>, { maxBatch: 8, maxDelayMs: 100, bodyLimit: 2 << 20 });
    const cases: Array<[Uint8Array | string, string, number]> = [
      [IMAGES[0], 'image/png', 200],
      [IMAGES[0].subarray(0, 200), 'image/png', 422],
      [IMAGES[1], 'image/png', 200],
      ['hello', 'text/plain', 415],
      [pngClaiming(12000, 9000), 'image/png', 413],
      [new Uint8Array(0), 'image/png', 400],
      ['<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/svg+xml', 415],
      [new Uint8Array(3 << 20), 'image/png', 413],
      [IMAGES[2], 'image/png', 200],
    ];
    const res = await Promise.all(cases.map(([b, t]) => post(`${s.url}/v1/detect?mask=false`, b, t)));
    for (const [i, r] of res.entries()) {
      expect(r.status, `case ${i}`).toBe(cases[i][2]);
      const body = (await r.json()) as { error?: string; instances?: unknown[] };
      // The good ones run as one batch (one padded size): each gets its lone result to float rounding.
      if (r.status === 200) expectObjectsClose(body.instances as DetectedObject[], await det(cases[i][0] as Uint8Array, { mask: false }));
      else expect(body.error!.split('\n')).toHaveLength(1);
    }
  });
});

describe('a client that disconnects', () => {
  it('withdraws its waiting image: the batch runs without it, and the disconnect is counted', async () => {
    const s = await serve('detect', det as Pipeline<Task>, { maxDelayMs: 600 });
    const { port } = new URL(s.url);
    // A request whose client goes away 150 ms in, while its image waits for the 600 ms window.
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/detect', method: 'POST', headers: { 'content-type': 'image/png' } });
      req.on('error', () => resolve());
      req.end(IMAGES[0]);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 150);
    });
    await new Promise((r) => setTimeout(r, 100));
    const r = await post(`${s.url}/v1/detect?mask=false`, IMAGES[1]);
    expect(r.status).toBe(200);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(Number(/convnext_client_disconnects_total (\d+)/.exec(m)?.[1])).toBe(1);
    // One engine run of one image: the withdrawn image never ran.
    expect(Number(/convnext_batch_size_count (\d+)/.exec(m)?.[1])).toBe(1);
    expect(Number(/convnext_batch_size_sum (\d+)/.exec(m)?.[1])).toBe(1);
  });
});

describe('strict requests and failures that stay with their image', () => {
  it('an unknown query parameter, malformed multipart: 400', async () => {
    const s = await serve('detect', det as Pipeline<Task>);
    const unknown = await post(`${s.url}/v1/detect?top_k=3`, IMAGES[0]);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/top_k|additional/);
    const mp = await fetch(`${s.url}/v1/detect`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nbroken' });
    expect(mp.status).toBe(400);
  });

  it('an image that fails inside a batch gets its own error; the others their results', async () => {
    // A stand-in pipeline that fails on 13-pixel-wide images, alone or in a batch.
    const calls: number[] = [];
    const fake = Object.assign(async (input: RgbImageLike | RgbImageLike[]) => {
      const list = Array.isArray(input) ? input : [input];
      calls.push(list.length);
      if (list.some((i) => i.width === 13)) throw new UserError('this image cannot be classified');
      const out = list.map((i) => [{ label: `w${i.width}`, labelId: 0, score: 1 }]);
      return Array.isArray(input) ? out : out[0];
    }, { task: 'image-classification', config: cls.config, classNames: ['a'], dispose: async () => undefined, [Symbol.asyncDispose]: async () => undefined });
    const s = await serve('classify', fake as unknown as Pipeline<Task>, { maxBatch: 8, maxDelayMs: 300 });
    const png = (w: number): Promise<Buffer> => sharp({ create: { width: w, height: 20, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
    const widths = [20, 13, 30, 40];
    const res = await Promise.all((await Promise.all(widths.map(png))).map((b) => post(`${s.url}/v1/classify`, b)));
    expect(res.map((r) => r.status)).toEqual([200, 422, 200, 200]);
    expect(((await res[2].json()) as { classes: Array<{ label: string }> }).classes[0].label).toBe('w30');
    expect(Math.max(...calls)).toBeGreaterThan(1); // they did share a batch first
  });

  it('overlay masks decoded inside their boxes equal the full decode', async () => {
    const { regionOfRle } = await import('../../src/serve/overlay.js');
    const { compressRle, decodeRle, encodeMask } = await import('../../src/io/coco/rle.js');
    const H = 37;
    const W = 53;
    const mask = Uint8Array.from({ length: H * W }, (_, p) => {
      const y = Math.floor(p / W);
      const x = p % W;
      return (x - 25) ** 2 + (y - 18) ** 2 < 120 || (x > 40 && y > 30) ? 1 : 0;
    });
    const rle = compressRle(encodeMask(mask, H, W));
    const box = { xmin: 10.3, ymin: 5.6, xmax: 48.2, ymax: 33.9 };
    const r = regionOfRle(rle.counts, H, W, box);
    const full = decodeRle(encodeMask(mask, H, W));
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) expect(r.data[y * r.width + x]).toBe(full[(y + r.y0) * W + (x + r.x0)]);
    }
    expect([r.x0, r.y0, r.width, r.height]).toEqual([9, 4, 41, 31]);
  });
});

/** Starts the compiled CLI's server on a free port; resolves once it is ready. */
async function startServe(extra: string[]): Promise<{ p: ChildProcessByStdio<null, null, Readable>; url: string; exited: Promise<number | null>; stderr: () => string }> {
  const p = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--quiet', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /on (http:\/\/[^:]+:\d+)/.exec(err);
      if (m && err.includes('ready')) resolve(m[1]);
    });
    p.on('exit', () => reject(new Error(err)));
  });
  const exited = new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
  return { p, url, exited, stderr: () => err };
}

describe('convnext serve (CLI)', () => {
  it('serves, then SIGTERM drains the request in flight and exits 0', async () => {
    const { p, url, exited, stderr } = await startServe(['--max-delay-ms', '300']);
    const inFlight = post(`${url}/v1/detect?mask=false`, IMAGES[3]);
    // SIGTERM once the request waits in its 300 ms batch window (the queue-depth metric says so).
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (/convnext_queue_depth 1/.test(await (await fetch(`${url}/metrics`)).text())) break;
    }
    p.kill('SIGTERM');
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(((await r.json()) as { instances: unknown[] }).instances.length).toBeGreaterThan(0);
    expect(await exited).toBe(0);
    expect(stderr()).toMatch(/SIGTERM: draining[\s\S]*stopped/);
  });
});

describe('convnext serve --workers (worker threads)', () => {
  it('a worker-thread pipeline gives what the in-process pipeline gives; a dead worker fails its calls, not the process', async () => {
    const { workerPipeline } = await import('../../src/serve/worker-pool.js');
    await using local = await pipeline('object-detection');
    const remote = await workerPipeline({ task: 'object-detection', options: { threads: 1 } });
    const img = await sharp(IMAGES[1]).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgb = { width: img.info.width, height: img.info.height, data: new Uint8Array(img.data) };
    const call = remote as unknown as (x: unknown, o?: unknown) => Promise<unknown>;
    expect(await call(rgb, { mask: true })).toEqual(await local(rgb, { mask: true }));
    expect(await call([rgb, rgb], { mask: false })).toEqual(await local([rgb, rgb], { mask: false }));
    expect(remote.classNames).toEqual(local.classNames);
    expect(remote.config).toEqual(local.config);
    await remote.dispose();
    await expect(call(rgb)).rejects.toThrow(/worker thread exited/);
  });

  it('--workers 2: concurrent requests get what lone requests get; SIGTERM drains and exits 0', async () => {
    const { p, url, exited, stderr } = await startServe(['--workers', '2', '--max-batch', '2']);
    expect(stderr()).toMatch(/2 workers × \d+ thread/);
    const lone = [];
    for (const img of IMAGES) lone.push(await (await post(`${url}/v1/detect`, img)).json());
    const together = await Promise.all([...IMAGES, ...IMAGES].map(async (img) => (await post(`${url}/v1/detect`, img)).json()));
    // Batched in twos (the samples pad to one size): each as alone, to float rounding.
    type Body = { instances: DetectedObject[] };
    [...lone, ...lone].forEach((want, i) => expectObjectsClose((together[i] as Body).instances, (want as Body).instances));
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
