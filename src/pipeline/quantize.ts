/**
 * Int8 quantization of a model: its float ONNX graph (built from a config and weights, or an
 * exported file), calibrated by running the task's own pre-processing over calibration images,
 * rewritten to integer kernels, and compared with the float model on the same images.
 */
import { cosineSimilarity } from '../core/similarity.js';
import { bboxIou } from '../io/coco/rle.js';
import type { Runner } from '../core/engine.js';
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { OrtModelRunner } from '../core/ort/runner.js';
import type { CalibrationMethod } from '../core/ort/quant/ranges.js';
import { quantizeGraph } from '../core/ort/quant/quantize-graph.js';
import { countKernels, type KernelCount } from '../core/ort/quant/tap.js';
import type { ModelConfig } from '../config/models.js';
import { isDetectorConfig } from '../config/detector.js';
import type { RgbImage } from '../image/rgb.js';
import { describeOnnxModel, type OnnxModel } from '../tasks/onnx-model.js';
import { exportGraph, exportNetwork } from '../tasks/export-onnx.js';
import { nativeSize } from '../tasks/networks.js';
import { featureModel } from '../tasks/features.js';
import { toRgb } from './inputs.js';
import { loadBound, pipelineModel } from './models.js';
import { type Build, taskRunner, type TaskRunner } from './tasks.js';
import type { DetectedObject, PipelineOptions, QuantizeSpec, Task } from './types.js';

/** What to quantize and how. */
export interface QuantizeOptions extends QuantizeSpec, Pick<PipelineOptions, 'config' | 'set' | 'weights' | 'model' | 'threads'> {
  /** Input size of the graph built from a config: [h, w], 'dynamic', or the default (classifiers their crop, others dynamic). */
  size?: readonly [number, number] | 'dynamic';
  /** The task the model serves (default: its config's own; 'image-feature-extraction' quantizes a model's backbone levels). */
  task?: Task;
  /** false: skip the comparison with the float model (the report then holds the plan only). */
  report?: boolean;
  /** Called after each calibration or comparison image. */
  onProgress?: (stage: 'calibrate' | 'histogram' | 'compare', done: number, total: number) => void;
}

/** How the quantized model compares with the float one on the calibration images. */
export interface QuantizeReport {
  mode: 'static' | 'dynamic';
  method: CalibrationMethod | null;
  perChannel: boolean;
  /** Conv/Gemm/MatMul nodes quantized, and the names (weight names) left float by `exclude`. */
  quantized: number;
  excluded: string[];
  /** Weight names of nodes left float because no calibration image reached them (e.g. a mask head without detections). */
  uncalibrated: string[];
  /** Integer and float conv/matmul kernels onnxruntime runs after its optimizations. */
  kernels: KernelCount;
  floatBytes: number;
  int8Bytes: number;
  images: number;
  /** Cosine similarity of each graph output between the models (minimum and mean over images), where shapes agree. */
  cosine: Record<string, { min: number; mean: number }>;
  /** Task-level agreement: top-1 labels, pixel labels, or detections matched (same label, box IoU ≥ 0.5). */
  agreement: { measure: string; value: number } | null;
}

export interface QuantizeResult {
  /** The quantized ONNX model. */
  bytes: Uint8Array;
  report: QuantizeReport;
}

/** The pipeline task that runs a config's model. */
export function taskOf(cfg: ModelConfig): Task {
  if (isDetectorConfig(cfg)) return 'object-detection';
  if (cfg.type === 'segmentor') return 'image-segmentation';
  if (cfg.type === 'classifier') return 'image-classification';
  return 'image-feature-extraction';
}

/** The float model to quantize: an exported file (float32 weights) or the config's graph. */
async function floatModel(o: QuantizeOptions): Promise<{ bytes: Uint8Array; described: OnnxModel; origin: string }> {
  if (o.model !== undefined && o.size !== undefined) throw new UserError('quantize: size applies to a config, not to an exported model');
  if (o.model === undefined && o.config === undefined) throw new UserError('quantize: give a config (with weights) or an exported model');
  // Any task: pipelineModel only resolves the source here.
  const m = pipelineModel('image-feature-extraction', o);
  if (m.onnx) {
    const md = m.onnx.info.metadata;
    if (md['convnext.quantization']) throw new UserError(`${m.origin}: already quantized (${md['convnext.quantization']})`);
    if (md['convnext.weights_dtype'] === 'float16') throw new UserError(`${m.origin}: float16 weights; quantize the float32 export (or give --config and --weights)`);
    return { bytes: m.onnx.bytes, described: m.onnx, origin: m.origin };
  }
  const cfg = m.config;
  const detector = isDetectorConfig(cfg) && o.task !== 'image-feature-extraction';
  const net = o.task === 'image-feature-extraction' ? featureModel(cfg).network : exportNetwork(cfg, detector);
  const weights = await loadBound(net.registry, m.weights!);
  // Classifiers run at their crop size; dense models at any size (segmentors resize to a scale, not to their crop).
  const size = o.size === 'dynamic' ? null : o.size ?? (cfg.type === 'classifier' ? nativeSize(cfg) : null);
  // Linear layers on feature maps as MatMul: their quantized form returns float with no dequantize.
  const name = typeof o.config === 'string' ? o.config : m.origin;
  const bytes = exportGraph(cfg, net, weights, { name, size, batch: size ? 1 : 'batch', imageSizeInput: detector, pointwise: 'matmul' });
  return { bytes, described: describeOnnxModel(bytes, m.origin), origin: m.origin };
}

function patterns(exclude: ReadonlyArray<string | RegExp>): RegExp[] {
  return exclude.map((p) => {
    if (p instanceof RegExp) return p;
    try {
      return new RegExp(p);
    } catch {
      throw new UserError(`exclude pattern '${p}' (--exclude) is not a regular expression`);
    }
  });
}

/** A runner that remembers the outputs of its last run. */
class Recording implements Runner {
  last: Record<string, HostTensor> = {};
  constructor(private readonly inner: Runner) {}
  async run(input: HostTensor, tables?: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    this.last = await this.inner.run(input, tables);
    return this.last;
  }
  dispose(): Promise<void> | void {
    return this.inner.dispose();
  }
}


/** A box as COCO's [x, y, width, height]. */
const xywh = (b: DetectedObject['box']): number[] => [b.xmin, b.ymin, b.xmax - b.xmin, b.ymax - b.ymin];

/** Counts of one image's task agreement: [agreeing, total]. */
function agree(task: Task, ref: unknown, got: unknown): [number, number] {
  if (task === 'image-classification') {
    const [r, g] = [ref as Array<{ labelId: number }>, got as Array<{ labelId: number }>];
    return [r[0]?.labelId === g[0]?.labelId ? 1 : 0, 1];
  }
  if (task === 'image-segmentation') {
    const [r, g] = [ref as { labels: Uint16Array }, got as { labels: Uint16Array }];
    let same = 0;
    for (let i = 0; i < r.labels.length; i++) if (r.labels[i] === g.labels[i]) same++;
    return [same, r.labels.length];
  }
  if (task === 'object-detection') {
    const [r, g] = [ref as DetectedObject[], got as DetectedObject[]];
    const iou = bboxIou(r.map((d) => xywh(d.box)), g.map((d) => xywh(d.box)), g.map(() => false));
    const used = new Set<number>();
    let matched = 0;
    r.forEach((d, i) => {
      let best = -1;
      let bestIou = 0.5;
      g.forEach((c, j) => {
        if (!used.has(j) && c.labelId === d.labelId && iou[i][j] >= bestIou) [best, bestIou] = [j, iou[i][j]];
      });
      if (best >= 0) {
        matched++;
        used.add(best);
      }
    });
    return [matched, r.length];
  }
  return [0, 0];
}

const MEASURES: Partial<Record<Task, string>> = {
  'image-classification': 'top-1 label agreement',
  'image-segmentation': 'pixel label agreement',
  'object-detection': 'float detections matched (same label, box IoU ≥ 0.5)',
};

/**
 * Quantizes a model to int8 (see {@link QuantizeOptions}); returns the ONNX bytes and a report of
 * how the quantized model agrees with the float one on the calibration images.
 */
export async function quantize(o: QuantizeOptions = {}): Promise<QuantizeResult> {
  const mode = o.mode ?? 'static';
  const method = o.method ?? 'minmax';
  const perChannel = o.perChannel ?? true;
  const images = o.calibration ?? [];
  if (mode === 'static' && images.length === 0) throw new UserError('static quantization needs calibration images (or use dynamic mode)');
  const exclude = patterns(o.exclude ?? []);
  const src = await floatModel(o);
  // A batched detector's heads run in a Loop body, which the rewrite leaves float; onnxruntime's
  // QDQ fusions abort on quantized values that body reads, so only dynamic mode applies.
  if (mode === 'static' && src.described.info.outputs.some((x) => x.name === 'num_dets')) {
    throw new UserError(`${src.origin}: a batched detector graph (its heads in an ONNX Loop) quantizes in dynamic mode only (--mode dynamic); or quantize a fixed-size export (--size) or the config`);
  }
  const cfg = src.described.config;
  const task = o.task === 'instance-segmentation' ? 'object-detection' : o.task ?? taskOf(cfg);
  const decoded: RgbImage[] = [];
  for (const [i, x] of images.entries()) decoded.push(await toRgb(x, i));
  const build = (runner: Runner): Promise<TaskRunner<Task>> => taskRunner(task, {
    config: cfg, onnx: { ...src.described, bytes: src.bytes }, runner, engine: 'ort', engineOptions: { threads: o.threads }, origin: src.origin,
  } satisfies Build);
  const { bytes, quantized, excluded, uncalibrated } = await quantizeGraph(src.bytes, { mode, method, perChannel, reduceRange: o.reduceRange, exclude, threads: o.threads }, async (tap, pass) => {
    // The task runner over the tap: calibration sees exactly the task's pre-processing.
    const r = await build({ run: (x, t) => tap.run(x, t), dispose: () => undefined });
    try {
      for (const [i, img] of decoded.entries()) {
        await r.run(img, {});
        o.onProgress?.(pass === 1 ? 'calibrate' : 'histogram', i + 1, decoded.length);
      }
    } finally {
      await r.dispose();
    }
  }, src.origin);
  const summary = { mode, method: mode === 'static' ? method : null, perChannel, quantized, excluded, uncalibrated, floatBytes: src.bytes.length, int8Bytes: bytes.length };
  if (o.report === false) return { bytes, report: { ...summary, kernels: { integer: {}, float: {} }, images: 0, cosine: {}, agreement: null } };
  const kernels = await countKernels(bytes, { threads: o.threads });
  // The report: both models over the calibration images.
  const cos = new Map<string, number[]>();
  let [same, total] = [0, 0];
  const runners: Array<TaskRunner<Task>> = [];
  try {
    const fp = new Recording(await OrtModelRunner.create(src.bytes, { threads: o.threads, spinning: false }));
    runners.push(await build(fp));
    const q = new Recording(await OrtModelRunner.create(bytes, { threads: o.threads, spinning: false }));
    runners.push(await build(q));
    const [rf, rq] = runners;
    for (const [i, img] of decoded.entries()) {
      const a = await rf.run(img, {});
      const b = await rq.run(img, {});
      // A detector's outputs are ranked detection rows: compared by matching, not by cosine.
      for (const [name, t] of task === 'object-detection' ? [] : Object.entries(fp.last)) {
        const u = q.last[name];
        if (!u || u.data.length !== t.data.length || t.shape.join() !== u.shape.join()) continue;
        cos.set(name, [...(cos.get(name) ?? []), cosineSimilarity(t.data, u.data)]);
      }
      const [s, n] = agree(task, a, b);
      same += s;
      total += n;
      o.onProgress?.('compare', i + 1, decoded.length);
    }
  } finally {
    for (const r of runners) await r.dispose();
  }
  const measure = MEASURES[task];
  const report: QuantizeReport = {
    ...summary, kernels, images: decoded.length,
    cosine: Object.fromEntries([...cos].map(([k, v]) => [k, { min: Math.min(...v), mean: v.reduce((x, y) => x + y, 0) / v.length }])),
    agreement: measure && total > 0 ? { measure, value: same / total } : null,
  };
  return { bytes, report };
}
