/**
 * Quantizes a float ONNX model: plans the integer nodes, calibrates activation ranges by running
 * the model through a caller's feed (static mode), rewrites the graph and records what was done
 * in its metadata.
 */
import { UserError } from '../../errors.js';
import type { Runner } from '../../engine.js';
import { decodeModel, encodeModel, setMetadata } from './onnx-proto.js';
import { type CalibrationMethod, type HistogramOptions, RangeCollector } from './ranges.js';
import { activationOf, applyDynamic, applyStatic, planQuantization, type QuantTarget } from './rewrite.js';
import { TapRunner } from './tap.js';

export interface GraphQuantOptions {
  /** 'static': calibrated ranges; 'dynamic': ranges at run time. */
  mode: 'static' | 'dynamic';
  method: CalibrationMethod;
  perChannel: boolean;
  /** 7-bit weights (±64), for CPUs without VNNI (onnxruntime's reduce_range). */
  reduceRange?: boolean;
  /** Nodes (by node or weight name) that stay float. */
  exclude?: readonly RegExp[];
  histogram?: HistogramOptions;
  threads?: number;
}

/** Runs calibration inputs through `runner` (the float model with taps); `pass` 2 is the histogram pass. */
export type CalibrationFeed = (runner: Runner, pass: 1 | 2) => Promise<void>;

export interface GraphQuantResult {
  bytes: Uint8Array;
  /** Nodes quantized. */
  quantized: number;
  /** Weight names of the nodes `exclude` kept float. */
  excluded: string[];
  /** Weight names of the nodes left float because calibration never computed their values. */
  uncalibrated: string[];
}

/** The int8 model of `fp32` (see {@link GraphQuantOptions}); `feed` is used in static mode only. */
export async function quantizeGraph(fp32: Uint8Array, o: GraphQuantOptions, feed: CalibrationFeed, origin = 'the model'): Promise<GraphQuantResult> {
  const model = decodeModel(fp32);
  let plan = planQuantization(model, { exclude: o.exclude, mode: o.mode });
  let uncalibrated: string[] = [];
  if (plan.targets.length === 0) throw new UserError(`${origin}: no Conv, Gemm or MatMul node with constant weights to quantize`);
  if (o.mode === 'static') {
    const collector = new RangeCollector(o.method, o.histogram);
    const tap = await TapRunner.create(model, plan.activations, { threads: o.threads });
    try {
      tap.observer = (name, data) => collector.observe(name, data);
      await feed(tap, 1);
      if (collector.needsHistogram) {
        collector.startHistograms();
        await feed(tap, 2);
      }
    } finally {
      await tap.dispose();
    }
    const ranges = collector.ranges();
    if (collector.names().length === 0) throw new UserError('calibration never ran the model: no calibration input');
    // Nodes whose values calibration never saw (for example a mask head that got no detection) stay float.
    const seen = (t: QuantTarget) => [activationOf(t), t.node.output[0]].every((v) => ranges.has(v) || !plan.activations.includes(v));
    uncalibrated = plan.targets.filter((t) => !seen(t)).map((t) => t.weight.name);
    plan = { ...plan, targets: plan.targets.filter(seen) };
    if (plan.targets.length === 0) throw new UserError('calibration never computed the values of any quantizable node');
    applyStatic(model, plan, ranges, { perChannel: o.perChannel, reduceRange: o.reduceRange });
  } else {
    applyDynamic(model, plan, { perChannel: o.perChannel, reduceRange: o.reduceRange });
  }
  const excluded = plan.excluded.map((e) => e.weight);
  setMetadata(model, {
    'convnext.quantization': JSON.stringify({
      mode: o.mode, method: o.mode === 'static' ? o.method : null, per_channel: o.perChannel, reduce_range: o.reduceRange ?? false, activations: 'uint8', weights: o.reduceRange ? 'int8 (7-bit levels)' : 'int8', quantized: plan.targets.length, excluded, uncalibrated,
    }),
    'convnext.weights_dtype': 'int8',
  });
  return { bytes: encodeModel(model), quantized: plan.targets.length, excluded, uncalibrated };
}
