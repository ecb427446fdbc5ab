/** A {@link SegmentorPredictor} of a segmentor built with its weights on a Node engine (onnxruntime-node or TensorFlow.js). */
import { createRunner, type EngineName, type EngineOptions } from '../../core/engine.js';
import type { WeightMap } from '../../core/weights.js';
import { type PredictorOptions, SegmentorPredictor } from './segmentor-predict.js';
import type { Segmentor } from './segmentor.js';

/**
 * Builds the segmentor network on `engine` with `weights`. The network stops at the head's
 * logits (stride 4): the upsampling to the input size happens in the predictor, on the host, fused
 * with window stitching and the final resize, so the engine never returns C × H × W logits.
 */
export async function createSegmentorPredictor(model: Segmentor, weights: WeightMap, engine: EngineName, engineOpts: EngineOptions = {}, opts: PredictorOptions = {}): Promise<SegmentorPredictor> {
  const runner = await createRunner(engine, model.network({ upsample: false }), weights, engineOpts);
  return new SegmentorPredictor(model, runner, opts);
}
