/**
 * A detector built with its weights on a Node engine (onnxruntime-node or TensorFlow.js), and its
 * whole ONNX graph: inputs `input` [1, 3, H, W] and `image_size` [2], outputs `dets`, `masks` and
 * `proposals` (see detector-runner.ts for their layouts). Batches of more than one image run
 * through the batched network, built on first use.
 */
import { createRunner, type EngineName, type EngineOptions, type Runner } from '../../core/engine.js';
import { buildOnnx } from '../../core/ort/build.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { WeightMap } from '../../core/weights.js';
import type { DetectorConfig } from '../../config/detector.js';
import { DetectorPredictor } from './detector-predict.js';
import { checkBatch, checkInput, type DetectorRunner, unbatchDetections } from './detector-runner.js';
import { Detector } from './detector.js';

/** Serialised ONNX graph of the whole detector (opset 17, dynamic H and W). */
export function buildDetectorOnnx(det: Detector, weights: WeightMap, opts: { size?: readonly [number, number] } = {}): Uint8Array {
  return buildOnnx(det.runnerNetwork(), weights, { size: opts.size, name: det.config.type });
}

/** Prepares the detector with `weights` on the named engine (through the engines' generic runners). */
export async function createDetectorRunner(engine: EngineName, det: Detector, weights: WeightMap, opts: EngineOptions = {}): Promise<DetectorRunner> {
  const runner: Runner = await createRunner(engine, det.runnerNetwork(), weights, { ...opts, graphName: det.config.type });
  let batchRunner: Promise<Runner> | undefined;
  const run = async (image: HostTensor, imageSize: readonly [number, number]) => {
    checkInput(image, imageSize);
    const out = await runner.run(image, { image_size: { shape: [2], data: Float32Array.from(imageSize) } });
    return { dets: out.dets, masks: out.masks, proposals: out.proposals };
  };
  return {
    run,
    async runBatch(images, sizes) {
      checkBatch(images, sizes);
      if (sizes.length === 1) return [await run(images, sizes[0])];
      batchRunner ??= createRunner(engine, det.batchNetwork(true), weights, { ...opts, inputShape: undefined, graphName: det.config.type });
      const out = await (await batchRunner).run(images, { image_size: { shape: [sizes.length, 2], data: Float32Array.from(sizes.flat()) } });
      return unbatchDetections(out);
    },
    async dispose() {
      await runner.dispose();
      if (batchRunner) await (await batchRunner).dispose();
    },
  };
}

/** Builds the detector of `cfg` with bound `weights` on `engine`. */
export async function createDetectorPredictor(model: DetectorConfig | Detector, weights: WeightMap, engine: EngineName, opts: EngineOptions = {}): Promise<DetectorPredictor> {
  const det = model instanceof Detector ? model : new Detector(model);
  return DetectorPredictor.fromRunner(det, await createDetectorRunner(engine, det, weights, opts));
}
