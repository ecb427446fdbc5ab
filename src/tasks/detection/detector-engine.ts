/**
 * A detector built with its weights on a Node engine (onnxruntime-node or TensorFlow.js), and its
 * whole ONNX graph: inputs `input` [1, 3, H, W] and `image_size` [2], outputs `dets`, `masks` and
 * `proposals` (see detector-runner.ts for their layouts). A batch of more than one image switches
 * the runner to the batched network (built then), which runs every later call.
 */
import { createRunner, type EngineName, type EngineOptions, type Runner } from '../../core/engine.js';
import { buildOnnx } from '../../core/ort/build.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { WeightMap } from '../../core/weights.js';
import type { DetectorConfig } from '../../config/detector.js';
import { DetectorPredictor } from './detector-predict.js';
import { checkBatch, checkInput, type DetectorRunner, type RawDetections, sizeTable, unbatchDetections } from './detector-runner.js';
import { Detector } from './detector.js';

/** Serialised ONNX graph of the whole detector (opset 17, dynamic H and W). */
export function buildDetectorOnnx(det: Detector, weights: WeightMap, opts: { size?: readonly [number, number] } = {}): Uint8Array {
  return buildOnnx(det.runnerNetwork(), weights, { size: opts.size, name: det.config.type });
}

/** Prepares the detector with `weights` on the named engine (through the engines' generic runners). */
export async function createDetectorRunner(engine: EngineName, det: Detector, weights: WeightMap, opts: EngineOptions = {}): Promise<DetectorRunner> {
  let single: Runner | null = await createRunner(engine, det.runnerNetwork(), weights, { ...opts, graphName: det.config.type });
  // Built on the first batch of more than one image; from then on it runs every call alone, and
  // the one-image session is released once its runs in flight end (two onnxruntime sessions
  // whose threads spin would compete for the cores, and would hold two copies of the weights).
  let batched: Promise<Runner> | null = null;
  let inFlight: Promise<unknown> = Promise.resolve();
  let disposed = false;
  const gone = () => new Error('detector: the runner was disposed');
  const switchToBatched = async (): Promise<Runner> => {
    if (!batched) {
      const build = createRunner(engine, det.batchNetwork(true), weights, { ...opts, inputShape: undefined, graphName: det.config.type });
      batched = build;
      let runner: Runner;
      try {
        runner = await build;
      } catch (err) {
        batched = null; // a failed build is tried again by the next batch
        throw err;
      }
      if (single) {
        const old = single;
        single = null;
        await inFlight.catch(() => undefined);
        await old.dispose();
      }
      if (disposed) throw gone(); // dispose() releases the built runner
      return runner;
    }
    return batched;
  };
  const batch = async (images: HostTensor, sizes: ReadonlyArray<readonly [number, number]>): Promise<RawDetections[]> => {
    const runner = await switchToBatched();
    if (disposed) throw gone();
    const out = await runner.run(images, { image_size: sizeTable(sizes, true) });
    return unbatchDetections(out);
  };
  const run = async (image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections> => {
    checkInput(image, imageSize);
    if (disposed) throw gone();
    if (!single) return (await batch(image, [imageSize]))[0];
    const call = single.run(image, { image_size: sizeTable([imageSize], false) });
    inFlight = Promise.allSettled([inFlight, call]);
    const out = await call;
    return { dets: out.dets, masks: out.masks, proposals: out.proposals };
  };
  return {
    batches: true,
    run,
    async runBatch(images, sizes) {
      checkBatch(images, sizes);
      if (sizes.length === 1) return [await run(images, sizes[0])];
      return batch(images, sizes);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const old = single;
      single = null;
      if (old) {
        await inFlight.catch(() => undefined);
        await old.dispose();
      }
      // A batched runner, built or still building, is released here (its builder sees `disposed`).
      const built = await batched?.catch(() => null);
      await built?.dispose();
    },
  };
}

/** Builds the detector of `cfg` with bound `weights` on `engine`. */
export async function createDetectorPredictor(model: DetectorConfig | Detector, weights: WeightMap, engine: EngineName, opts: EngineOptions = {}): Promise<DetectorPredictor> {
  const det = model instanceof Detector ? model : new Detector(model);
  return DetectorPredictor.fromRunner(det, await createDetectorRunner(engine, det, weights, opts));
}
