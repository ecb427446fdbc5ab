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
