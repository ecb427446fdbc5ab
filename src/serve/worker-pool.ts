/**
 * Pipelines in worker threads, for `convnext serve --workers K`: each looks like a {@link Pipeline}
 * to the server (called on an image or an array of images), and runs in its own thread with its
 * own model instance, so the batcher can run K batches at once. Errors come back as the same
 * classes where the server maps them to a status (a `UserError` stays a `UserError`); a worker that
 * dies fails its pending calls and every later one with an error, never the process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../io/assets.js';
import { UserError } from '../core/errors.js';
import type { Pipeline, Task } from '../pipeline/types.js';
import type { ModelConfig } from '../config/models.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './pipeline-worker.js';

function revive(e: { name: string; message: string }): Error {
  const err = e.name === 'UserError' ? new UserError(e.message) : new Error(e.message);
  return err;
}

/**
 * The worker module, always compiled JavaScript: beside this file in the package's dist/, or, when
 * this module runs from its TypeScript source (tsx, tests), the build's copy under dist/ (worker
 * threads do not inherit tsx's loader).
 */
function workerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./pipeline-worker.js', import.meta.url);
  const built = join(packageRoot(), 'dist', 'src', 'serve', 'pipeline-worker.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: worker threads run the compiled build (npm run build)`);
  return pathToFileURL(built);
}

/** Starts one worker thread holding the pipeline of `setup`; resolves once its model is loaded. */
export async function workerPipeline(setup: WorkerSetup): Promise<Pipeline<Task>> {
  const worker = new Worker(workerUrl(), { workerData: setup });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let dead: Error | null = null;
  let next = 0;
  const { classNames, config } = await new Promise<{ classNames: readonly string[]; config: ModelConfig }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: WorkerReply) => {
      worker.off('error', reject);
      if ('ready' in m) resolve(m);
      else if ('failed' in m) reject(revive(m.failed));
      else reject(new Error('worker: unexpected first message'));
    });
  });
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  worker.on('message', (m: WorkerReply) => {
    if (!('id' in m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('error' in m) p.reject(revive(m.error));
    else p.resolve(m.results);
  });
  worker.on('error', (e) => fail(new Error(`worker thread failed: ${e.message}`)));
  worker.on('exit', (code) => fail(new Error(`worker thread exited (${code})`)));
  const call = (inputs: WorkerRequest['inputs'], options: Record<string, unknown> = {}) => new Promise<unknown>((resolve, reject) => {
    if (dead) {
      reject(dead);
      return;
    }
    const id = next++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, inputs, options } satisfies WorkerRequest);
  });
  const dispose = async () => {
    if (dead) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('dispose');
    await exited;
  };
  return Object.assign(call, {
    task: setup.task,
    config,
    classNames,
    dispose,
    [Symbol.asyncDispose]: dispose,
  }) as unknown as Pipeline<Task>;
}
