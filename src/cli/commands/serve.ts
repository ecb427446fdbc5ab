/**
 * `convnext serve`: one model over HTTP with dynamic batching (src/serve). SIGTERM or SIGINT stops
 * taking requests, lets the ones in flight finish, and exits 0.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { ModelConfig } from '../../config/models.js';
import { pipeline } from '../../pipeline/index.js';
import type { Pipeline, PipelineOptions, Task } from '../../pipeline/types.js';
import { buildApp } from '../../serve/app.js';
import { workerPipeline } from '../../serve/worker-pool.js';
import { type Endpoint, ENDPOINTS } from '../../serve/endpoints.js';
import { addModelOptions, configFromFlags, type ModelFlags, nonNegativeInt, positiveInt, readModelFile } from '../common.js';
import { DESCRIPTIONS } from './descriptions.js';

interface ServeFlags extends ModelFlags {
  host: string;
  port: number;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  timeoutMs: number;
  bodyLimitMb: number;
  workers: number;
  quiet?: boolean;
}

/** The endpoint of a model config's type. */
function endpointOf(cfg: ModelConfig): Endpoint {
  switch (cfg.type) {
    case 'mask_rcnn':
    case 'cascade_mask_rcnn':
      return 'detect';
    case 'segmentor':
      return 'segment';
    case 'classifier':
      return 'classify';
    case 'features':
      return 'features';
  }
}

export function register(program: Command): void {
  const cmd = program.command('serve').description(DESCRIPTIONS['serve']);
  addModelOptions(cmd, { weights: 'required', model: true })
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', nonNegativeInt('--port'), 8080)
    .option('--max-batch <n>', 'most images per engine run', positiveInt('--max-batch'), 8)
    .option('--max-delay-ms <ms>', 'longest a request waits for others to join its batch', nonNegativeInt('--max-delay-ms'), 10)
    .option('--max-queue <n>', 'most requests waiting; more get 429 with Retry-After', positiveInt('--max-queue'), 64)
    .option('--timeout-ms <ms>', 'per-request limit from arrival to answer (503 after)', positiveInt('--timeout-ms'), 30_000)
    .option('--body-limit-mb <mb>', 'largest request body', positiveInt('--body-limit-mb'), 32)
    .option('--workers <k>', 'model instances, each in its own worker thread with threads / k engine threads; k batches run at once (1: one instance on the server thread)', positiveInt('--workers'), 1)
    .option('--quiet', 'no request logs (JSON lines on stdout otherwise)')
    .action(async (f: ServeFlags) => {
      if (f.model !== undefined && (f.config !== undefined || f.weights !== undefined)) throw new UserError('give --model, or --config and --weights, not both');
      if (f.config !== undefined && f.weights === undefined) throw new UserError('give --weights with --config');
      if (f.model !== undefined && f.engine !== 'ort') throw new UserError(`--model runs on the ort engine, not ${f.engine}`);
      // Without a model, the bundled demo detector.
      const onnx = f.model !== undefined ? await readModelFile(f.model) : null;
      const base: PipelineOptions = f.model !== undefined ? { model: f.model }
        : f.config !== undefined ? { config: f.config, weights: f.weights, set: f.set } : {};
      const cfg = onnx?.config ?? (f.config !== undefined ? configFromFlags(f) : null);
      const endpoint: Endpoint = cfg ? endpointOf(cfg) : 'detect';
      const task: Task = ENDPOINTS[endpoint];
      // One instance runs on this thread. With --workers K, each instance runs in a worker thread
      // of its own (onnxruntime-node and TensorFlow.js block the thread they run on), sharing the
      // cores: K batches at once, threads / K engine threads each.
      const threads = f.threads ?? availableParallelism();
      const pipes: Array<Pipeline<Task>> = f.workers === 1
        ? [await pipeline(task, { ...base, engine: f.engine, backend: f.backend, threads }) as Pipeline<Task>]
        : await Promise.all(Array.from({ length: f.workers }, () => workerPipeline({
          task, options: { ...base, engine: f.engine, backend: f.backend, threads: Math.max(1, Math.floor(threads / f.workers)) },
        })));
      const modelName = f.model !== undefined ? basename(f.model) : f.config ?? `the demo ${endpoint === 'detect' ? 'detector' : 'model'}`;
      const { app, markReady, stop: stopApp } = await buildApp({
        endpoint, pipelines: pipes, modelName,
        maxBatch: f.maxBatch, maxDelayMs: f.maxDelayMs, maxQueue: f.maxQueue, timeoutMs: f.timeoutMs,
        bodyLimit: f.bodyLimitMb * 2 ** 20,
        logger: f.quiet ? false : { level: 'info' },
      });
      const address = await app.listen({ host: f.host, port: f.port });
      console.error(`serving ${modelName} on ${address}: POST /v1/${endpoint} (max batch ${f.maxBatch}, ${f.maxDelayMs} ms delay, queue ${f.maxQueue}, ${f.workers === 1 ? `${threads} thread(s)` : `${f.workers} workers × ${Math.max(1, Math.floor(threads / f.workers))} thread(s)`})`);
      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) {
          console.error(`${signal} again: exiting without draining`);
          process.exit(1);
        }
        stopping = true;
        console.error(`${signal}: draining`);
        // A client that never finishes cannot hold the process: give up after the request timeout.
        const deadline = setTimeout(() => {
          console.error('drain deadline passed: closing the remaining connections');
          app.server.closeAllConnections();
          process.exit(1);
        }, Math.min(f.timeoutMs, 2 ** 31 - 1) + 5000);
        try {
          await stopApp();
          for (const p of pipes) await p.dispose();
          console.error('stopped');
          process.exit(0);
        } catch (err) {
          console.error(`error while stopping: ${(err as Error).message}`);
          process.exit(1);
        } finally {
          clearTimeout(deadline);
        }
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      // Warm-up: the first run of a session is slow; readiness waits for it. With batching, a
      // batch of two also builds the batched path (a detector's batched graph) before traffic.
      try {
        const warm = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) };
        for (const p of pipes) {
          const call = p as unknown as (x: typeof warm | Array<typeof warm>) => Promise<unknown>;
          await call(warm);
          if (f.maxBatch > 1) await call([warm, warm]);
        }
      } catch (err) {
        await app.close();
        throw new UserError(`warm-up of ${modelName} failed: ${(err as Error).message.split('\n')[0]}`);
      }
      markReady();
      console.error('ready');
    });
}
