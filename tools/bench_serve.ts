/**
 * Load benchmark of `convnext serve` (traffic only to 127.0.0.1, bounded in count and time).
 *
 *   npx tsx tools/bench_serve.ts [--requests 2000] [--quick]
 *
 * Starts the CLI server as a child process per scenario and reports:
 *   1. throughput at concurrency 16 with dynamic batching (max batch 8, 5 ms) against one image
 *      per run (max batch 1), and batched with two worker threads (`--workers 2`, one engine
 *      thread each) against one instance, for the demo detector and the demo classifier (both
 *      run a batch in one engine call; the detector's heads then run per image);
 *   2. p50 / p99 latency at concurrency 1, 4 and 16 (demo detector, batching on);
 *   3. errors over `--requests` requests at concurrency 16, and the server's RSS (its own
 *      Prometheus metric) after request 500 and at the end;
 *   4. 4× overload (concurrency 64 against a queue of 16): 429s against other failures;
 *   5. bad inputs interleaved with good ones: every bad one its 4xx, every good one the result
 *      a lone request gets (to float rounding: batched and lone runs differ in the last bits).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BIN = fileURLToPath(new URL('../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../assets/demo/', import.meta.url));
const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, quick: { type: 'boolean', default: false } } });
const TOTAL = Number(args.requests);
const SCALE = args.quick ? 0.25 : 1;
const SHAPES = [0, 1, 2, 3].map((i) => readFileSync(join(ASSETS, 'shapes', `shapes_${i}.png`)));
const CAT = readFileSync(join(ASSETS, 'chelsea.jpg'));

interface Server { url: string; proc: ChildProcess }

async function start(extra: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--quiet', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /on (http:\/\/[^:]+:\d+)/.exec(err);
      if (m && err.includes('ready')) resolve(m[1]);
    });
    proc.on('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  return { url, proc };
}

async function stop(s: Server): Promise<number | null> {
  const done = new Promise<number | null>((resolve) => s.proc.on('exit', (c) => resolve(c)));
  s.proc.kill('SIGTERM');
  return done;
}

interface Shot { status: number; ms: number; body: string }

async function shoot(url: string, body: Uint8Array | string, type = 'image/png'): Promise<Shot> {
  const t0 = performance.now();
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(60_000) });
    return { status: r.status, ms: performance.now() - t0, body: await r.text() };
  } catch (e) {
    return { status: 0, ms: performance.now() - t0, body: String(e) };
  }
}

/** `n` requests at `concurrency`, bodies chosen by index; resolves with every shot in order. */
async function load(n: number, concurrency: number, make: (i: number) => () => Promise<Shot>): Promise<Shot[]> {
  const out: Shot[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < n; i = next++) out[i] = await make(i)();
  }));
  return out;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function rssMB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/convnext_process_resident_memory_bytes (\d+)/.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

console.log(`bench_serve: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`);

// 1. Throughput, batching against one at a time.
for (const [name, model, body, path] of [
  ['detector', [], (i: number) => SHAPES[i % 4], 'detect?mask=false'],
  ['classifier', ['--config', 'test_convnext-t-narrow_cls10', '--weights', join(ASSETS, 'convnext-t-narrow_cls10.safetensors')], () => CAT, 'classify'],
] as const) {
  const n = Math.round(400 * SCALE);
  const rates: Record<string, number> = {};
  for (const [mode, flags] of [
    ['batched', ['--max-batch', '8', '--max-delay-ms', '5']],
    ['one at a time', ['--max-batch', '1', '--max-delay-ms', '0']],
    ['batched, 2 workers', ['--max-batch', '8', '--max-delay-ms', '5', '--workers', '2']],
  ] as const) {
    const s = await start([...model, ...flags]);
    await load(32, 16, (i) => () => shoot(`${s.url}/v1/${path}`, body(i))); // warm
    const t0 = performance.now();
    const shots = await load(n, 16, (i) => () => shoot(`${s.url}/v1/${path}`, body(i)));
    rates[mode] = n / ((performance.now() - t0) / 1000);
    const bad = shots.filter((x) => x.status !== 200).length;
    console.log(`throughput ${name} ${mode}: ${rates[mode].toFixed(1)} images/s at concurrency 16 (${n} requests, ${bad} not 200)`);
    await stop(s);
  }
  console.log(`throughput ${name}: batched / one at a time = ${(rates.batched / rates['one at a time']).toFixed(2)}; 2 worker threads / 1 = ${(rates['batched, 2 workers'] / rates.batched).toFixed(2)}`);
}

// 2–3. Latency by concurrency; errors and RSS over the long run.
{
  const s = await start(['--max-batch', '8', '--max-delay-ms', '5']);
  const url = `${s.url}/v1/detect?mask=false`;
  for (const c of [1, 4, 16]) {
    const shots = await load(Math.round(200 * SCALE), c, (i) => () => shoot(url, SHAPES[i % 4]));
    const ms = shots.map((x) => x.ms);
    console.log(`latency concurrency ${c}: p50 ${pct(ms, 50).toFixed(1)} ms, p99 ${pct(ms, 99).toFixed(1)} ms`);
  }
  let rss500 = NaN;
  const shots = await load(TOTAL, 16, (i) => async () => {
    const r = await shoot(url, SHAPES[i % 4]);
    if (i === 500) rss500 = await rssMB(s.url);
    return r;
  });
  const rssEnd = await rssMB(s.url);
  const errors = shots.filter((x) => x.status !== 200).length;
  console.log(`${TOTAL} requests at concurrency 16: ${errors} errors; server RSS ${rss500.toFixed(1)} MB after request 500, ${rssEnd.toFixed(1)} MB at the end (${(((rssEnd - rss500) / rss500) * 100).toFixed(1)} %)`);
  console.log(`SIGTERM: exit ${await stop(s)}`);
}

// 4. Overload.
{
  const s = await start(['--max-batch', '4', '--max-delay-ms', '5', '--max-queue', '16']);
  const shots = await load(Math.round(800 * SCALE), 64, (i) => () => shoot(`${s.url}/v1/detect?mask=false`, SHAPES[i % 4]));
  const by = new Map<number, number>();
  for (const x of shots) by.set(x.status, (by.get(x.status) ?? 0) + 1);
  console.log(`overload (concurrency 64, queue 16): ${[...by].map(([k, v]) => `${k === 0 ? 'network error' : k}: ${v}`).join(', ')}`);
  await stop(s);
}

/**
 * Whether two detect answers hold the same instances: labels in order, scores within 1e-4 and
 * boxes within 1e-2 px (a batched run rounds differently from a lone one in the last bits).
 */
function sameDetections(a: string, b: string): boolean {
  type Inst = { label: string; score: number; box: Record<string, number> };
  const [x, y] = [JSON.parse(a) as { instances: Inst[] }, JSON.parse(b) as { instances: Inst[] }];
  return x.instances.length === y.instances.length && x.instances.every((p, i) => {
    const q = y.instances[i];
    return p.label === q.label && Math.abs(p.score - q.score) <= 1e-4 && Object.keys(q.box).every((k) => Math.abs(p.box[k] - q.box[k]) <= 1e-2);
  });
}

// 5. Bad inputs among good ones.
{
  const s = await start(['--max-batch', '8', '--max-delay-ms', '20', '--body-limit-mb', '8']);
  const url = `${s.url}/v1/detect?mask=false`;
  const truth = await Promise.all(SHAPES.map(async (b) => (await shoot(url, b)).body));
  const bigPng = (await import('sharp')).default({ create: { width: 10_000, height: 10_000, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png({ compressionLevel: 9 }).toBuffer();
  const bad: Array<[Uint8Array | string, string, number]> = [
    [SHAPES[0].subarray(0, 300), 'image/png', 422],
    ['not an image', 'text/plain', 415],
    [await bigPng, 'image/png', 413],
    [new Uint8Array(0), 'image/png', 400],
  ];
  const n = Math.round(200 * SCALE);
  const shots = await load(n, 16, (i) => () => (i % 4 === 3 ? shoot(url, bad[(i >> 2) % 4][0], bad[(i >> 2) % 4][1]) : shoot(url, SHAPES[i % 4])));
  let wrong = 0;
  shots.forEach((x, i) => {
    const expected = i % 4 === 3 ? bad[(i >> 2) % 4][2] : 200;
    if (x.status !== expected || (expected === 200 && !sameDetections(x.body, truth[i % 4]))) wrong++;
  });
  console.log(`mixed input: ${n} requests (${shots.filter((_, i) => i % 4 === 3).length} bad: truncated PNG, text, 100-megapixel PNG, empty body); ${wrong} answered wrongly`);
  await stop(s);
}
