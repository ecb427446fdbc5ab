/**
 * Running a {@link Detector} on either engine, and its ONNX graph. The graph has two inputs,
 * `input` [1, 3, H, W] (normalised, padded) and `image_size` [2] (valid height and width, float),
 * and three outputs: `dets` [D, 6] (x1, y1, x2, y2, score, label), `masks` [D, 1, 28, 28]
 * (probabilities of each detection's class) and `proposals` [P, 5]. Height and width are dynamic.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { EngineName, EngineOptions } from '../core/engine.js';
import type { HostTensor } from '../core/host-tensor.js';
import { GraphBuilder } from '../core/ort/graph.js';
import { OrtDetOps } from '../core/ort/det-ops.js';
import { sessionOptions } from '../core/ort/runner.js';
import { initBackend } from '../core/tfjs/backend.js';
import { TfjsDetOps } from '../core/tfjs/det-ops.js';
import { detToHost } from '../core/tfjs/host.js';
import { TfjsParams } from '../core/tfjs/params.js';
import { fromHost } from '../core/tfjs/host.js';
import type { WeightMap } from '../core/weights.js';
import { type Detector, packOutputs } from './detector.js';

/** Host outputs of one image (see the module comment for layouts). */
export interface RawDetections {
  dets: HostTensor;
  masks: HostTensor;
  proposals: HostTensor;
}

export interface DetectorRunner {
  /** Runs one normalised, padded image [1, 3, H, W]; `imageSize` is its valid [height, width]. */
  run(image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections>;
  dispose(): Promise<void> | void;
}

/** Serialised ONNX graph of the whole detector (opset 17, dynamic H and W). */
export function buildDetectorOnnx(det: Detector, weights: WeightMap, opts: { size?: readonly [number, number] } = {}): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('input', [1, det.config.backbone.in_channels, opts.size?.[0] ?? 'height', opts.size?.[1] ?? 'width']);
  const size = g.input('image_size', [2]);
  const ops = new OrtDetOps(g, weights);
  const outs = packOutputs(ops, det.forward(ops, x, size));
  for (const name of ['dets', 'masks', 'proposals']) g.output(name, ops.materialize(outs[name]));
  return g.toBytes(det.config.type);
}

function checkInput(image: HostTensor, imageSize: readonly [number, number]): void {
  const [n, , h, w] = image.shape;
  if (image.shape.length !== 4 || n !== 1) throw new Error(`detector: expected one image [1, C, H, W], got [${image.shape.join(', ')}]`);
  if (!(imageSize[0] >= 1 && imageSize[1] >= 1 && imageSize[0] <= h && imageSize[1] <= w)) {
    throw new Error(`detector: image size ${imageSize.join('×')} outside the input ${h}×${w}`);
  }
}

class OrtDetectorRunner implements DetectorRunner {
  constructor(readonly session: ort.InferenceSession) {}

  async run(image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections> {
    checkInput(image, imageSize);
    const res = await this.session.run({
      input: new ort.Tensor('float32', image.data, image.shape),
      image_size: new ort.Tensor('float32', Float32Array.from(imageSize), [2]),
    });
    const host = (name: string): HostTensor => ({ shape: res[name].dims.map(Number), data: res[name].data as Float32Array });
    return { dets: host('dets'), masks: host('masks'), proposals: host('proposals') };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class TfjsDetectorRunner implements DetectorRunner {
  private readonly params: TfjsParams;

  constructor(readonly det: Detector, weights: WeightMap) {
    this.params = new TfjsParams(weights);
  }

  async run(image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections> {
    checkInput(image, imageSize);
    const ops = new TfjsDetOps(this.params, false);
    const outs = tf.tidy(() => packOutputs(ops, this.det.forward(ops, fromHost(image), tf.tensor1d([...imageSize]))));
    try {
      return { dets: await detToHost(outs.dets), masks: await detToHost(outs.masks), proposals: await detToHost(outs.proposals) };
    } finally {
      for (const v of Object.values(outs)) v.dispose();
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Prepares the detector with `weights` on the named engine. */
export async function createDetectorRunner(engine: EngineName, det: Detector, weights: WeightMap, opts: EngineOptions = {}): Promise<DetectorRunner> {
  if (engine === 'tfjs') {
    await initBackend(opts.backend ?? 'auto', opts.log);
    return new TfjsDetectorRunner(det, weights);
  }
  const session = await ort.InferenceSession.create(buildDetectorOnnx(det, weights), sessionOptions({ threads: opts.threads, spinning: opts.spinning }));
  return new OrtDetectorRunner(session);
}
