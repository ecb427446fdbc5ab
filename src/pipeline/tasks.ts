/**
 * One runner per task: builds the model of a resolved config on an engine and turns one decoded
 * image into the task's plain result, reusing the CLI's predictors (the same numbers as
 * `convnext detect`, `segment`, `classify` and `features`).
 */
import { createRunner, type EngineName, type EngineOptions, type Runner } from '../core/engine.js';
import type { Network } from '../core/model.js';
import { OrtModelRunner } from '../core/ort/runner.js';
import { exportedDetectorPredictor } from '../tasks/exported-model.js';
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { isDetectorConfig } from '../config/detector.js';
import type { ModelConfig } from '../config/models.js';
import { toTensor, type RgbImage } from '../image/rgb.js';
import { classificationInput } from '../io/image.js';
import { Classifier } from '../tasks/classification/classifier.js';
import { topK } from '../tasks/classification/topk.js';
import { Detector } from '../tasks/detection/detector.js';
import { DEFAULT_SCORE_THR } from '../tasks/detection/detector-json.js';
import { featureModel } from '../tasks/features.js';
import { Segmentor } from '../tasks/segmentation/segmentor.js';
import { detectedObjects, semanticSegmentation } from '../tasks/results.js';
import { type SegPrediction, SegmentorPredictor } from '../tasks/segmentation/segmentor-predict.js';
import { loadBound } from './models.js';
import type { OnnxModel } from '../tasks/onnx-model.js';
import type { ClassScore, SemanticSegmentation, Task, TaskTypes } from './types.js';
import { createSegmentorPredictor } from '../tasks/segmentation/segmentor-engine.js';
import { createDetectorPredictor } from '../tasks/detection/detector-engine.js';

/** A task's model on an engine: one image → its result. */
export interface TaskRunner<K extends Task> {
  readonly classNames: readonly string[];
  run(img: RgbImage, options: TaskTypes[K]['options']): Promise<TaskTypes[K]['result']>;
  /** Several images in one engine call (where the model takes a batch); absent: one by one. */
  runBatch?(imgs: readonly RgbImage[], options: TaskTypes[K]['options']): Promise<Array<TaskTypes[K]['result']>>;
  dispose(): Promise<void>;
}

/** What a task runner is built from. */
export interface Build {
  config: ModelConfig;
  /** Weights file of the config, or … */
  weights?: string;
  /** … an exported ONNX model of it (its own weights) and what it describes. */
  onnx?: OnnxModel & { bytes: Uint8Array };
  engine: EngineName;
  engineOptions: EngineOptions;
  /** The model's name in messages. */
  origin: string;
  /** A runner to use instead of one built from `onnx` or `weights` (for example a calibration tap). */
  runner?: Runner;
}

/** The weights file of a build that needs one (every task that does not run an exported model). */
function weightsOf(b: Build): string {
  if (b.weights === undefined) throw new Error('pipeline: no weights');
  return b.weights;
}

/** The engine runner of `net`: the exported model when given (ort only), else the network built with its weights. */
async function runnerOf(task: Task, b: Build, net: Network): Promise<Runner> {
  if (b.runner) return b.runner;
  if (b.onnx) {
    if (b.engine !== 'ort') throw new UserError(`pipeline('${task}'): an ONNX file runs on the ort engine, not ${b.engine}`);
    return OrtModelRunner.create(b.onnx.bytes, { threads: b.engineOptions.threads });
  }
  return createRunner(b.engine, net, await loadBound(net.registry, weightsOf(b)), b.engineOptions);
}

/** Whether the build's engine takes a batch: always, except an exported file with a fixed batch dimension. */
function batchable(b: Build): boolean {
  return !b.onnx || typeof b.onnx.info.inputs[0]?.dims[0] !== 'number';
}

function wrongType(task: Task, b: Build, expected: string): never {
  throw new UserError(`pipeline('${task}'): ${b.origin} is a ${b.config.type}, not a ${expected}`);
}

async function detection(task: 'object-detection' | 'instance-segmentation', b: Build): Promise<TaskRunner<typeof task>> {
  if (!isDetectorConfig(b.config)) wrongType(task, b, 'detector (mask_rcnn, cascade_mask_rcnn)');
  const det = new Detector(b.config);
  const predictor = b.onnx
    ? exportedDetectorPredictor(det, b.onnx, await runnerOf(task, b, det.runnerNetwork()), b.origin)
    : await createDetectorPredictor(det, await loadBound(det.scope.registry, weightsOf(b)), b.engine, b.engineOptions);
  return {
    classNames: det.classNames,
    async run(img, o) {
      return detectedObjects(await predictor.predict(img, { scoreThr: o.threshold ?? DEFAULT_SCORE_THR, nms: o.nms }), o);
    },
    async runBatch(imgs, o) {
      const results = await predictor.predictBatch(imgs, { scoreThr: o.threshold ?? DEFAULT_SCORE_THR, nms: o.nms });
      return results.map((r) => detectedObjects(r, o));
    },
    dispose: () => predictor.dispose(),
  };
}

async function segmentation(b: Build): Promise<TaskRunner<'image-segmentation'>> {
  if (b.config.type !== 'segmentor') wrongType('image-segmentation', b, 'segmentor');
  const cfg = b.config;
  const model = new Segmentor(cfg);
  // An exported segmentor returns logits at the input size: the predictor's resize to the input
  // size (mmseg's first resize) is then already done in the graph.
  const predictor = b.onnx ? new SegmentorPredictor(model, await runnerOf('image-segmentation', b, model.network()))
    : await createSegmentorPredictor(model, await loadBound(model.scope.registry, weightsOf(b)), b.engine, b.engineOptions);
  const toResult = (pred: SegPrediction): SemanticSegmentation => semanticSegmentation(pred, model.classNames);
  return {
    classNames: model.classNames,
    async run(img, o) {
      return toResult(await predictor.predict(img, { mode: o.mode ?? cfg.test.mode, tta: o.tta }));
    },
    async runBatch(imgs, o) {
      const preds = await predictor.predictBatch(imgs, { mode: o.mode ?? cfg.test.mode, tta: o.tta }, batchable(b));
      return preds.map(toResult);
    },
    dispose: async () => { await predictor.runner.dispose(); },
  };
}

async function classification(b: Build): Promise<TaskRunner<'image-classification'>> {
  if (b.config.type !== 'classifier') wrongType('image-classification', b, 'classifier');
  const cfg = b.config;
  const model = new Classifier(cfg);
  const runner = await runnerOf('image-classification', b, model.network());
  const scores = (row: Float32Array, o: TaskTypes['image-classification']['options']): ClassScore[] =>
    topK(row, Math.min(o.topk ?? 5, cfg.num_classes)).map(({ index, prob }) => ({ label: model.classNames[index], labelId: index, score: prob }));
  // Every image is cropped to the same size, so a batch is one engine call.
  const batched = batchable(b);
  return {
    classNames: model.classNames,
    async run(img, o) {
      const { logits } = await runner.run(await classificationInput(img, cfg.input));
      return scores(logits.data, o);
    },
    ...(batched ? {
      async runBatch(imgs: readonly RgbImage[], o: TaskTypes['image-classification']['options']) {
        const xs = await Promise.all(imgs.map((img) => classificationInput(img, cfg.input)));
        const per = xs[0].data.length;
        const data = new Float32Array(per * xs.length);
        xs.forEach((x, i) => data.set(x.data, i * per));
        const { logits } = await runner.run({ shape: [xs.length, ...xs[0].shape.slice(1)], data });
        const k = logits.shape[1];
        return xs.map((_, i) => scores(logits.data.subarray(i * k, (i + 1) * k), o));
      },
    } : {}),
    dispose: async () => { await runner.dispose(); },
  };
}

/** The features input of an image: classifiers crop as in evaluation; dense models pad to /32. */
async function featuresInput(cfg: ModelConfig, img: RgbImage): Promise<HostTensor> {
  if (cfg.type === 'classifier') return classificationInput(img, cfg.input);
  return toTensor(img, cfg.input.mean, cfg.input.std, 32);
}

async function features(b: Build): Promise<TaskRunner<'image-feature-extraction'>> {
  const fm = featureModel(b.config);
  const runner = await runnerOf('image-feature-extraction', b, fm.network);
  return {
    classNames: [],
    async run(img) {
      const out = await runner.run(await featuresInput(b.config, img));
      return Object.fromEntries(fm.specs.map((s) => [s.name, { shape: [...out[s.name].shape], data: Float32Array.from(out[s.name].data), stride: s.stride, channels: s.channels }]));
    },
    dispose: async () => { await runner.dispose(); },
  };
}

/** The runner of `task` for a resolved model. */
export function taskRunner<K extends Task>(task: K, b: Build): Promise<TaskRunner<K>> {
  switch (task) {
    case 'object-detection':
    case 'instance-segmentation':
      return detection(task, b) as Promise<TaskRunner<K>>;
    case 'image-segmentation':
      return segmentation(b) as Promise<TaskRunner<K>>;
    case 'image-classification':
      return classification(b) as Promise<TaskRunner<K>>;
    case 'image-feature-extraction':
      return features(b) as Promise<TaskRunner<K>>;
    default:
      throw new UserError(`pipeline: unknown task '${String(task)}'`);
  }
}
