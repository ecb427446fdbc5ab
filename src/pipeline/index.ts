/**
 * `pipeline(task, options)`: a model in one call, as transformers.js users know it.
 *
 * ```ts
 * const detect = await pipeline('object-detection', { config: 'mask-rcnn_convnext-t_fpn_3x_coco', weights: 'mask_rcnn.pth' });
 * const objects = await detect('street.jpg', { threshold: 0.5 });
 * await detect.dispose();
 * ```
 *
 * Inputs are paths, encoded image bytes, sharp instances or RGB pixels, one or an array; results
 * are plain objects in original-image pixels with class names.
 */
import type { EngineOptions } from '../core/engine.js';
import { UserError } from '../core/errors.js';
import { toRgb } from './inputs.js';
import { DEMO_MODELS, pipelineModel } from './models.js';
import { quantize } from './quantize.js';
import { describeOnnxModel } from '../tasks/onnx-model.js';
import { taskRunner } from './tasks.js';
import type { ImageInput, Pipeline, PipelineOptions, Task, TaskTypes } from './types.js';

export type * from './types.js';
export { DEMO_MODELS } from './models.js';
export { quantize, type QuantizeOptions, type QuantizeReport, type QuantizeResult } from './quantize.js';

/** Every task `pipeline()` builds. */
export const TASKS: readonly Task[] = ['object-detection', 'instance-segmentation', 'image-segmentation', 'image-classification', 'image-feature-extraction'];

/**
 * Builds the pipeline of `task` (the bundled demo model without `config`). Engines load here, so
 * the first call runs at full speed. Errors in the options (unknown config, missing weights, a
 * model of another task) reject with a one-line message.
 */
export async function pipeline<K extends Task>(task: K, options: PipelineOptions = {}): Promise<Pipeline<K>> {
  if (!(TASKS as readonly string[]).includes(task)) throw new UserError(`pipeline: unknown task '${String(task)}' (tasks: ${TASKS.join(', ')})`);
  let model = pipelineModel(task, options);
  if (options.quantize) {
    if ((options.engine ?? 'ort') !== 'ort') throw new UserError(`pipeline('${task}'): a quantized model runs on the ort engine, not ${options.engine}`);
    const { config, set, weights, model: file, threads } = options;
    // Without a model, the task's demo config (whose weights are bundled).
    const source = config === undefined && file === undefined ? { config: DEMO_MODELS[task].config } : { config, weights, model: file };
    const { bytes } = await quantize({ ...source, set, threads, task, ...options.quantize, report: false });
    model = { config: model.config, onnx: { ...describeOnnxModel(bytes, `${model.origin} (int8)`), bytes }, origin: `${model.origin} (int8)` };
  }
  const engineOptions: EngineOptions = { backend: options.backend, threads: options.threads };
  const runner = await taskRunner(task, { ...model, engine: options.engine ?? 'ort', engineOptions });
  let disposed = false;
  async function call(input: ImageInput | readonly ImageInput[], opts?: TaskTypes[K]['options']): Promise<TaskTypes[K]['result'] | Array<TaskTypes[K]['result']>> {
    if (disposed) throw new Error(`pipeline('${task}') was disposed`);
    const o = opts ?? ({} as TaskTypes[K]['options']);
    if (!Array.isArray(input)) return runner.run(await toRgb(input as ImageInput, 0), o);
    const inputs = input as readonly ImageInput[];
    if (runner.runBatch && inputs.length > 1) {
      const imgs = [];
      for (const [i, x] of inputs.entries()) imgs.push(await toRgb(x, i));
      return runner.runBatch(imgs, o);
    }
    const out: Array<TaskTypes[K]['result']> = [];
    for (const [i, x] of inputs.entries()) out.push(await runner.run(await toRgb(x, i), o));
    return out;
  }
  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await runner.dispose();
  };
  return Object.assign(call, {
    task,
    config: model.config,
    classNames: runner.classNames,
    dispose,
    [Symbol.asyncDispose]: dispose,
  }) as Pipeline<K>;
}
