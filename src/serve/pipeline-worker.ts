/**
 * The body of one `convnext serve --workers K` worker thread: builds the pipeline its parent
 * describes (workerData) and answers `{ id, inputs, options }` messages with `{ id, results }`
 * or `{ id, error: { name, message } }`. Each worker holds its own model instance and engine
 * session, so K workers run K batches at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pipeline } from '../pipeline/index.js';
import type { Pipeline, PipelineOptions, Task } from '../pipeline/types.js';
import type { RgbImage } from '../image/rgb.js';
import type { ModelConfig } from '../config/models.js';

/** What the parent passes a worker. */
export interface WorkerSetup {
  task: Task;
  options: PipelineOptions;
}

/** A request to a worker. */
export interface WorkerRequest {
  id: number;
  inputs: RgbImage | RgbImage[];
  options: Record<string, unknown>;
}

/** A worker's answer. */
export type WorkerReply = { id: number; results: unknown } | { id: number; error: { name: string; message: string } } | { ready: true; classNames: readonly string[]; config: ModelConfig } | { failed: { name: string; message: string } };

const port = parentPort;
if (port) {
  const setup = workerData as WorkerSetup;
  let pipe: Pipeline<Task>;
  try {
    pipe = (await pipeline(setup.task, setup.options)) as Pipeline<Task>;
    port.postMessage({ ready: true, classNames: [...pipe.classNames], config: pipe.config } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ failed: { name: (e as Error).name, message: (e as Error).message } } satisfies WorkerReply);
    process.exit(0);
  }
  const call = pipe as unknown as (x: RgbImage | RgbImage[], o: Record<string, unknown>) => Promise<unknown>;
  port.on('message', (m: WorkerRequest | 'dispose') => {
    if (m === 'dispose') {
      void pipe.dispose().then(() => port.close());
      return;
    }
    call(m.inputs, m.options).then(
      (results) => port.postMessage({ id: m.id, results } satisfies WorkerReply),
      (e: unknown) => port.postMessage({ id: m.id, error: { name: (e as Error).name ?? 'Error', message: (e as Error).message ?? String(e) } } satisfies WorkerReply),
    );
  });
}
