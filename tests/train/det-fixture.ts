/** Reading the detection training-loss fixtures (tools/fixtures/gen_train_det.py, gen_train_cascade.py). */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import type { HostTensor } from '../../src/core/host-tensor.js';
import type { WeightMap } from '../../src/core/weights.js';
import type { GtInstances } from '../../src/data/instances.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { prepareTraining } from '../../src/core/tfjs/grad/index.js';
import { installTrainGradients } from '../../src/train/grad-fixes.js';
import { detTrainSchema } from '../../src/train/det/config.js';
import { FIXTURES } from '../helpers.js';
import { TfjsDetOps } from '../../src/core/tfjs/det-ops.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import type { TfjsParams } from '../../src/core/tfjs/params.js';
import { TrainRng } from '../../src/data/rng.js';
import type { Detector } from '../../src/tasks/detection/detector.js';
import { type DetLossInfo, detectorLosses } from '../../src/train/det/loss.js';

/** One loss fixture: its tensors by name, the weights (`w.*`), ground truths and valid sizes of both images. */
export interface DetLossFixture {
  get(name: string): HostTensor;
  keys(): string[];
  weights(): WeightMap;
  gts: GtInstances[];
  sizes: Array<[number, number]>;
}

export async function readDetLossFixture(file: string): Promise<DetLossFixture> {
  const fx = (await readSafetensors(join(FIXTURES, 'train', file))).tensors;
  const get = (name: string): HostTensor => {
    const t = fx.get(name);
    if (!t) throw new Error(`${file} lacks ${name}`);
    return t;
  };
  const gtOf = (i: number): GtInstances => {
    const masks = get(`gt.${i}.masks`);
    const [g, h, w] = masks.shape;
    return {
      boxes: get(`gt.${i}.boxes`).data,
      labels: Int32Array.from(get(`gt.${i}.labels`).data),
      masks: Array.from({ length: g }, (_, k) => Uint8Array.from(masks.data.subarray(k * h * w, (k + 1) * h * w))),
      maskHeight: h,
      maskWidth: w,
    };
  };
  return {
    get,
    keys: () => [...fx.keys()],
    weights: () => new Map([...fx].filter(([k]) => k.startsWith('w.')).map(([k, v]) => [k.slice(2), v])),
    gts: [gtOf(0), gtOf(1)],
    sizes: [0, 1].map((i) => Array.from(get(`size.${i}`).data) as [number, number]),
  };
}

/** Take-all samplers (sizes above any candidate count) and proposal limits above the anchor counts. */
export const TAKE_ALL_TRAIN = detTrainSchema.parse({
  rpn: { sampler: { num: 100000 } },
  rpn_proposal: { nms_pre: 1000, max_per_img: 1000 },
  rcnn: { sampler: { num: 100000 } },
});

/** Selects a tfjs backend and installs the gradients training needs on it. */
export async function trainingBackend(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await prepareTraining();
  installTrainGradients();
}

/**
 * The loss terms of `det` on the fixture's input and targets (sampling takes everything), their
 * sum and its gradients for the fixture's `grad.*` parameters. Dispose `x`, `value` and `grads`.
 */
export function fixtureLosses(det: Detector, params: TfjsParams, fixture: DetLossFixture) {
  const ops = new TfjsDetOps(params, true);
  const x = fromHost(fixture.get('input'));
  const vars = params.variables();
  const names = fixture.keys().filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
  const info = {} as DetLossInfo;
  let terms: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const l = detectorLosses(det, ops, x, { sizes: fixture.sizes, gts: fixture.gts }, TAKE_ALL_TRAIN, new TrainRng(0), info);
    terms = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.dataSync()[0]]));
    return tf.addN(Object.values(l)) as tf.Scalar;
  }, names.map((n) => vars.get(n)!));
  /** The gradient of a fixture parameter name. */
  const grad = (n: string) => grads[vars.get(n)!.name];
  return { x, value, grads, grad, terms, info, names };
}
