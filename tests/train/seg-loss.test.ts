/**
 * The segmentation training loss of a tiny UPerNet against PyTorch (tools/fixtures/gen_train_seg.py:
 * tools/reference/mmseg_uper.py in training mode, mmseg's forward_train loss): decode and aux
 * cross-entropy terms, gradients of the total for parameters across the model, and the BatchNorm
 * running statistics after the step, on the wasm and cpu backends within 1e-4 relative of the
 * float64 reference (PyTorch's own float32 gradients are up to 1.7e-4 away from it in the backbone).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src/core/host-tensor.js';
import { prepareTraining } from '../../src/core/tfjs/grad/index.js';
import { TfjsOps } from '../../src/core/tfjs/ops.js';
import { TfjsParams } from '../../src/core/tfjs/params.js';
import { fromHost } from '../../src/core/tfjs/host.js';
import { bindWeights } from '../../src/core/weights.js';
import { resolveConfig } from '../../configs/index.js';
import type { SegmentorConfig } from '../../src/config/segmentor.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Segmentor } from '../../src/tasks/segmentation/segmentor.js';
import { installTrainGradients } from '../../src/train/grad-fixes.js';
import { crossEntropy } from '../../src/core/tfjs/losses/index.js';
import { segmentorLosses } from '../../src/train/seg/loss.js';
import { compare, FIXTURES, PARITY_REL_TOL } from '../helpers.js';

let fx: Map<string, HostTensor>;
let weights: Map<string, HostTensor>;

beforeAll(async () => {
  fx = (await readSafetensors(join(FIXTURES, 'train', 'seg_loss.safetensors'))).tensors;
  weights = (await readSafetensors(join(FIXTURES, 'seg', 'seg.weights.safetensors'))).tensors;
});

function get(name: string): HostTensor {
  const t = fx.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
}

/** A host tensor of a variable in PyTorch layout. */
async function host(t: tf.Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: new Float32Array(await t.data()) };
}

describe.each(['wasm', 'cpu'])('segmentor training loss on %s', (backend) => {
  it('losses, gradients and running statistics match PyTorch', async () => {
    await tf.setBackend(backend);
    await prepareTraining();
    installTrainGradients();
    const cfg = resolveConfig('test_upernet_convnext-narrow_cls5', ['decode_head.dropout_ratio=0', 'auxiliary_head.dropout_ratio=0']);
    if (cfg.type !== 'segmentor') throw new Error('expected a segmentor');
    const seg = new Segmentor(cfg);
    const before = tf.memory().numTensors;
    const params = new TfjsParams(bindWeights(seg.scope.registry, weights).weights, true);
    const ops = new TfjsOps(params, true);
    const x = fromHost(get('input'));
    const lab = get('labels');
    const labels = tf.tensor(Int32Array.from(lab.data), lab.shape, 'int32');
    const vars = params.variables();
    const names = [...fx.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    let terms: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const l = segmentorLosses(seg, ops, x, labels);
      terms = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.dataSync()[0]]));
      return tf.addN(Object.values(l)) as tf.Scalar;
    }, names.map((n) => vars.get(n)!));
    for (const k of ['decode.loss_ce', 'aux.loss_ce']) {
      expect(Math.abs(terms[k] - get(`expected.${k}`).data[0]) / get(`expected.${k}`).data[0]).toBeLessThan(PARITY_REL_TOL);
    }
    for (const n of names) {
      const g = grads[vars.get(n)!.name];
      const c = compare(await host(g), get(`grad.${n}`));
      expect(c.rel, `gradient of ${n}`).toBeLessThan(PARITY_REL_TOL);
    }
    for (const k of [...fx.keys()].filter((k) => k.startsWith('running.'))) {
      const c = compare(await host(vars.get(k.slice(8))!), get(k));
      expect(c.rel, k).toBeLessThan(PARITY_REL_TOL);
    }
    tf.dispose([x, labels, value, ...Object.values(grads)]);
    params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('segmentor loss class weights', () => {
  it('each head passes its class_weight to the cross-entropy; a wrong count fails at parse time', async () => {
    await tf.setBackend('cpu');
    const w = [0.2, 1, 1.5, 1, 0.5];
    const plain = resolveConfig('test_upernet_convnext-narrow_cls5', ['decode_head.dropout_ratio=0', 'auxiliary_head.dropout_ratio=0']);
    const weighted = resolveConfig('test_upernet_convnext-narrow_cls5', [
      'decode_head.dropout_ratio=0', 'auxiliary_head.dropout_ratio=0', `decode_head.class_weight=${JSON.stringify(w)}`, `auxiliary_head.class_weight=${JSON.stringify(w)}`,
    ]);
    if (plain.type !== 'segmentor' || weighted.type !== 'segmentor') throw new Error('expected a segmentor');
    const x = fromHost(get('input'));
    const lab = get('labels');
    const labels = tf.tensor(Int32Array.from(lab.data), lab.shape, 'int32');
    const losses = (cfg: SegmentorConfig, classWeight?: number[]) => {
      const seg = new Segmentor(cfg);
      const params = new TfjsParams(bindWeights(seg.scope.registry, weights).weights, true);
      const ops = new TfjsOps(params, true);
      // The expected terms: the same logits through crossEntropy with the weights given directly.
      const out = tf.tidy(() => {
        const l = segmentorLosses(seg, ops, x, labels);
        const heads = seg.heads(ops, x, true);
        const [, h, wd] = labels.shape as number[];
        const ce = (t: tf.Tensor, lw: number) => crossEntropy(ops.resize(t, { size: [h, wd] }, 'bilinear', false), labels, { ignoreIndex: 255, lossWeight: lw, classWeight });
        return [l['decode.loss_ce'], l['aux.loss_ce'], ce(heads.logits, 1), ce(heads.aux!, 0.4)].map((t) => t.dataSync()[0]);
      });
      params.dispose();
      return out;
    };
    const [d, a, dRef, aRef] = losses(weighted, w);
    expect(Math.abs(d - dRef) / dRef).toBeLessThan(1e-6);
    expect(Math.abs(a - aRef) / aRef).toBeLessThan(1e-6);
    const [d0] = losses(plain);
    expect(Math.abs(d - d0) / d0).toBeGreaterThan(1e-3);
    tf.dispose([x, labels]);
    expect(() => resolveConfig('test_upernet_convnext-narrow_cls5', ['decode_head.class_weight=[1,2]'])).toThrow(/decode_head\.class_weight.*2 class weights for 5 classes/);
  });
});
