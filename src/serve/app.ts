/**
 * The HTTP application of `convnext serve` (Fastify): one model behind one endpoint of its task
 * (`POST /v1/detect`, `/v1/segment`, `/v1/classify` or `/v1/features`), fed through a dynamic
 * batcher, with health, readiness, Prometheus metrics and an OpenAPI document.
 *
 * Every request is decoded on its own before it joins a batch, so a bad image gets its own 4xx
 * and never reaches the others. Errors are one-line JSON `{ "error": "…" }`: 400 empty or
 * malformed request, 413 too large (body or pixels), 415 not an accepted image format, 422 an
 * image that does not decode, 429 queue full (with Retry-After), 503 timed out or shutting down.
 */
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { UserError } from '../core/errors.js';
import { LimitExceeded } from '../core/limits.js';
import type { RgbImage } from '../image/rgb.js';
import { readRgb, UnsupportedImageFormat } from '../io/image.js';
import { encodeLabelPng } from '../io/label-png.js';
import type { ClassScore, DetectedObject, Features, Pipeline, SemanticSegmentation, Task } from '../pipeline/types.js';
import { Batcher, QueueFull } from './batcher.js';
import type { Endpoint } from './endpoints.js';
import { createMetrics, type ServeMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { detectionOverlay, segmentationOverlay } from './overlay.js';

/** How the served model runs and how the server bounds its work. */
export interface ServeOptions {
  /** The endpoint the model answers. */
  endpoint: Endpoint;
  /** One pipeline per worker (each runs one batch at a time). */
  pipelines: ReadonlyArray<Pipeline<Task>>;
  /** Model name in responses and logs. */
  modelName: string;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  /** Per-request limit from arrival to answer (ms). */
  timeoutMs: number;
  /** Largest request body (bytes). */
  bodyLimit: number;
  /** Fastify's logger option (JSON lines); false in tests. */
  logger?: FastifyServerOptions['logger'];
}

/** Per-request options read from the query string. */
export interface Query {
  overlay?: boolean;
  threshold?: number;
  nms?: 'class' | 'agnostic';
  mask?: boolean;
  topk?: number;
  mode?: 'whole' | 'slide';
  tta?: boolean;
}

/** One queued request: its decoded image and query options. */
export interface Job { img: RgbImage; query: Query }

/** A request that waited or ran past its time. */
class TimedOut extends Error {}
/** The client closed its connection before the answer. */
class ClientGone extends Error {}

/** HTTP status and Retry-After for an error. */
function statusOf(err: unknown): { status: number; retryAfter?: number } {
  if (err instanceof QueueFull) return { status: 429, retryAfter: 1 };
  if (err instanceof TimedOut) return { status: 503, retryAfter: 1 };
  if (err instanceof ClientGone) return { status: 499 };
  if (err instanceof LimitExceeded) return { status: 413 };
  if (err instanceof UnsupportedImageFormat) return { status: 415 };
  if (err instanceof UserError) return { status: 422 };
  const code = (err as { statusCode?: unknown }).statusCode;
  return { status: typeof code === 'number' && code >= 400 ? code : 500 };
}

/** One line of an error for a JSON body. */
function messageOf(err: unknown, status: number): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return `unsupported content type: send the image as the body (image/jpeg, image/png, image/webp, …) or as multipart/form-data`;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'request body too large';
  if (status >= 500 && !(err instanceof TimedOut)) return 'internal error';
  return String(e.message ?? err).split('\n')[0];
}

/** The JSON of a result, in the library API's shapes (binary data base64). */
function toJson(endpoint: Endpoint, r: unknown): unknown {
  switch (endpoint) {
    case 'detect':
      return { instances: r as DetectedObject[] };
    case 'classify':
      return { classes: r as ClassScore[] };
    case 'segment': {
      const s = r as SemanticSegmentation;
      const max = s.labels.reduce((m, v) => Math.max(m, v), 0);
      const data = max < 256 ? Uint8Array.from(s.labels) : s.labels;
      return { width: s.width, height: s.height, classes: s.classes, labels_png: encodeLabelPng({ width: s.width, height: s.height, data }).toString('base64') };
    }
    case 'features': {
      const f = r as Features;
      return {
        levels: Object.fromEntries(Object.entries(f).map(([k, v]) => [k, {
          shape: v.shape, stride: v.stride, channels: v.channels, dtype: 'float32', byte_order: 'little',
          data: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('base64'),
        }])),
      };
    }
  }
}

/** One job's outcome: its result, or the error that job alone got. */
type Settled = { ok: unknown } | { err: unknown };

/** A canonical key of query options (parameter order does not matter). */
const optionsKey = (q: Query): string => JSON.stringify(Object.entries(q).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Runs one group of jobs on a pipeline: jobs with the same options in one call each. When a call
 * fails, its jobs run again one by one, so only a job that fails alone gets an error.
 */
async function runGroup(pipe: Pipeline<Task>, jobs: readonly Job[]): Promise<Settled[]> {
  const call = pipe as unknown as (input: RgbImage | RgbImage[], o: Query) => Promise<unknown>;
  const out: Settled[] = new Array(jobs.length);
  const byOptions = new Map<string, number[]>();
  jobs.forEach((j, i) => {
    const k = optionsKey(j.query);
    const list = byOptions.get(k);
    if (list) list.push(i); else byOptions.set(k, [i]);
  });
  for (const idx of byOptions.values()) {
    try {
      const res = (await call(idx.map((i) => jobs[i].img), jobs[idx[0]].query)) as unknown[];
      idx.forEach((i, k) => { out[i] = { ok: res[k] }; });
    } catch (err) {
      if (idx.length === 1) {
        out[idx[0]] = { err };
        continue;
      }
      for (const i of idx) {
        try {
          out[i] = { ok: await call(jobs[i].img, jobs[i].query) };
        } catch (e) {
          out[i] = { err: e };
        }
      }
    }
  }
  return out;
}

/** A yes/no query parameter: 1, 0, true or false. */
const flag = { type: 'string', enum: ['1', '0', 'true', 'false'] };
const FLAGS = ['overlay', 'mask', 'tta'] as const;

/** The query with its yes/no parameters as booleans. */
function readQuery(raw: Record<string, unknown>): Query {
  const q: Record<string, unknown> = { ...raw };
  for (const k of FLAGS) if (k in q) q[k] = q[k] === '1' || q[k] === 'true';
  return q as Query;
}

const QUERY_SCHEMAS: Record<Endpoint, Record<string, unknown>> = {
  detect: {
    overlay: flag,
    threshold: { type: 'number', minimum: 0, maximum: 1 },
    nms: { type: 'string', enum: ['class', 'agnostic'] },
    mask: flag,
  },
  segment: { overlay: flag, mode: { type: 'string', enum: ['whole', 'slide'] }, tta: flag },
  classify: { topk: { type: 'integer', minimum: 1, maximum: 1000 } },
  features: {},
};

/** A built server: the Fastify app, its batcher and metrics. */
export interface ServeApp {
  app: FastifyInstance;
  batcher: Batcher<Job, Settled>;
  metrics: ServeMetrics;
  /** Marks the model warmed up: `/readyz` answers 200 from now on. */
  markReady(): void;
  /**
   * Stops taking requests (new ones get 503), answers those in flight (with `Connection: close`,
   * so keep-alive clients do not hold the server open), and resolves when all are done.
   */
  stop(): Promise<void>;
}

/** Builds the application (not listening). `/readyz` answers 503 until {@link ServeApp.markReady}. */
export async function buildApp(opts: ServeOptions): Promise<ServeApp> {
  const timeoutMs = Math.min(opts.timeoutMs, 2 ** 31 - 1);
  const metrics = createMetrics();
  const free = [...opts.pipelines];
  const batcher = new Batcher<Job, Settled>(async (jobs) => {
    const pipe = free.pop();
    if (!pipe) throw new Error('no free worker');
    try {
      return await runGroup(pipe, jobs);
    } finally {
      free.push(pipe);
    }
  }, { maxBatch: opts.maxBatch, maxDelayMs: opts.maxDelayMs, maxQueue: opts.maxQueue, workers: opts.pipelines.length }, {
    onBatch: (n) => metrics.batchSize.observe(n),
    onQueueDepth: (d) => metrics.queueDepth.set(d),
  });
  let ready = false;
  let closing = false;

  const app = Fastify({
    logger: opts.logger ?? false, bodyLimit: opts.bodyLimit, return503OnClosing: true,
    // An unknown query parameter is a 400, not silently dropped (Fastify's default removes it).
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.removeAllContentTypeParsers(); // no JSON or text bodies: those are 415
  await app.register(multipart, { limits: { fileSize: opts.bodyLimit, files: 1, fields: 8 } });
  app.addContentTypeParser(/^image\//, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const { status, retryAfter } = statusOf(err);
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    if (status >= 500 && !(err instanceof TimedOut)) req.log.error({ err }, 'request failed');
    void reply.code(status).send({ error: messageOf(err, status) });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}; this server runs ${opts.modelName}: POST /v1/${opts.endpoint}` });
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (ready ? { status: 'ready', model: opts.modelName } : reply.code(503).send({ error: 'model loading' })));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/openapi.json', async () => openApiDocument(opts.endpoint, opts.modelName));

  app.post(`/v1/${opts.endpoint}`, { schema: { querystring: { type: 'object', additionalProperties: false, properties: QUERY_SCHEMAS[opts.endpoint] } } }, async (req: FastifyRequest, reply: FastifyReply) => {
    if (batcher.depth >= opts.maxQueue) throw new QueueFull(`queue full (${opts.maxQueue} waiting)`); // before decoding
    // The time limit runs from the request's arrival.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new TimedOut(`timed out after ${timeoutMs} ms`)), Math.max(0, timeoutMs - reply.elapsedTime));
    // A client that goes away withdraws its image if it is still waiting for a batch.
    const gone = () => {
      if (reply.raw.writableFinished) return;
      metrics.disconnects.inc();
      ac.abort(new ClientGone('client disconnected'));
    };
    reply.raw.once('close', gone);
    try {
      const bytes = await bodyBytes(req);
      const img = await readRgb(bytes, 'request body');
      if (opts.endpoint === 'features' && img.width * img.height > FEATURES_MAX_PIXELS) {
        return reply.code(413).send({ error: `request body: ${img.width}×${img.height} pixels; features are served for images of at most ${FEATURES_MAX_PIXELS / 1e6} megapixels` });
      }
      const { overlay, ...query } = readQuery(req.query as Record<string, unknown>);
      const timedOut = new Promise<never>((_, reject) => {
        if (ac.signal.aborted) reject(ac.signal.reason);
        ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
      });
      const settled = await Promise.race([batcher.submit({ img, query: overlay ? { ...query, mask: true } : query }, ac.signal), timedOut]);
      if ('err' in settled) throw settled.err;
      const result = settled.ok;
      if (overlay) {
        const png = opts.endpoint === 'detect' ? await detectionOverlay(img, result as DetectedObject[])
          : await segmentationOverlay(img, result as SemanticSegmentation, opts.pipelines[0].config);
        return reply.type('image/png').send(png);
      }
      return toJson(opts.endpoint, result);
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', gone);
    }
  });

  const stop = async (): Promise<void> => {
    closing = true;
    const closed = app.close();
    closed.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    await batcher.drain();
    app.server.closeIdleConnections();
    await closed;
  };
  return { app, batcher, metrics, markReady: () => { ready = true; }, stop };
}

/** Largest image `/v1/features` takes: full-resolution feature maps grow with the pixels (4 MP: ~0.6 GB of stage-1 activations for ConvNeXt-T). */
const FEATURES_MAX_PIXELS = 4_000_000;

/** The image bytes of a request: the body itself, or the one file of a multipart form. */
async function bodyBytes(req: FastifyRequest): Promise<Uint8Array> {
  if (req.isMultipart()) {
    let part;
    let buf;
    try {
      part = await req.file();
      buf = part ? await part.toBuffer() : null;
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      throw Object.assign(new Error(`malformed multipart request: ${String((e as Error).message).split('\n')[0]}`), { statusCode: code && code < 500 ? code : 400 });
    }
    if (!part || !buf) throw Object.assign(new Error('multipart request without a file'), { statusCode: 400 });
    if (part.file.truncated) throw Object.assign(new Error('request body too large'), { statusCode: 413 });
    if (buf.length === 0) throw Object.assign(new Error('empty file in the multipart request'), { statusCode: 400 });
    return buf;
  }
  const body = req.body;
  if (!(body instanceof Uint8Array) || body.length === 0) {
    throw Object.assign(new Error('empty request body: send the image as the body (image/jpeg, image/png, …) or as multipart/form-data'), { statusCode: 400 });
  }
  return body;
}
