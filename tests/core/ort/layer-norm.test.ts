/**
 * The ONNX engine's channel LayerNorm (native LayerNormalization between transposes, affine
 * deferred) with every kind of consumer: a linear layer and an unpadded conv (affine folded into
 * their weights), a padded conv and a residual add (affine applied as a depthwise 1×1 conv), and a
 * graph output. Checked against the tfjs cpu engine (two-pass moments) and, for the bare output,
 * against LayerNorm evaluated in float64. The input carries a per-pixel offset common to all
 * channels of 10× their spread, where the one-pass variance onnxruntime computes (E[x²] − mean²,
 * in float32, as for any PyTorch LayerNorm export) loses the most digits.
 */
import { describe, expect, it } from 'vitest';
import { createRunner, type EngineName } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { Conv2d, LayerNorm, Linear } from '../../../src/core/layers.js';
import type { Network } from '../../../src/core/model.js';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { Scope } from '../../../src/core/params.js';
import { initWeights, type WeightMap } from '../../../src/core/weights.js';
import { compare, PARITY_REL_TOL } from '../../helpers.js';

const C = 24;
const EPS = 1e-6;

function net(): Network {
  const s = Scope.root();
  const norm = new LayerNorm(s.child('norm'), C, EPS);
  const fc = new Linear(s.child('fc'), C, 40);
  const down = new Conv2d(s.child('down'), C, 16, 2, { stride: 2 });
  const same = new Conv2d(s.child('same'), C, 8, 3, { padding: 1 });
  return {
    registry: s.registry,
    inputChannels: C,
    outputs: { ln: 4, fc: 4, down: 4, same: 4, res: 4 },
    forward: (ops, x) => {
      const y = norm.forward(ops, x);
      return { ln: y, fc: fc.forward(ops, y), down: down.forward(ops, y), same: same.forward(ops, y), res: ops.add(y, x) };
    },
  };
}

/** Weights with a non-trivial LayerNorm affine (the initialiser gives ones and zeros). */
function weights(n: Network): WeightMap {
  const w = initWeights(n.registry, 5);
  w.set('norm.weight', { shape: [C], data: Float32Array.from({ length: C }, (_, i) => 0.5 + Math.sin(i * 1.3) ** 2) });
  w.set('norm.bias', { shape: [C], data: Float32Array.from({ length: C }, (_, i) => Math.cos(i * 0.7)) });
  return w;
}

const [H, W] = [11, 17];
const input: HostTensor = {
  shape: [2, C, H, W],
  data: Float32Array.from({ length: 2 * C * H * W }, (_, i) => {
    const p = i % (H * W);
    return 10 * Math.sin(p * 0.3 + (i >= C * H * W ? 1 : 0)) + Math.sin(i * 0.37) + 0.5 * Math.cos(i * 0.011);
  }),
};

/** LayerNorm over channels in float64, with the test's affine. */
function lnReference(w: WeightMap): HostTensor {
  const g = w.get('norm.weight')!.data;
  const b = w.get('norm.bias')!.data;
  const hw = H * W;
  const out = new Float32Array(input.data.length);
  for (let n = 0; n < 2; n++) {
    for (let p = 0; p < hw; p++) {
      const at = (c: number) => (n * C + c) * hw + p;
      let mean = 0;
      for (let c = 0; c < C; c++) mean += input.data[at(c)];
      mean /= C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (input.data[at(c)] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / C + EPS);
      for (let c = 0; c < C; c++) out[at(c)] = (input.data[at(c)] - mean) * inv * g[c] + b[c];
    }
  }
  return { shape: input.shape, data: out };
}

async function run(engine: EngineName, n: Network, w: WeightMap): Promise<Record<string, HostTensor>> {
  const r = await createRunner(engine, n, w, { backend: 'cpu' });
  try {
    return await r.run(input);
  } finally {
    await r.dispose();
  }
}

describe('ort channel LayerNorm', () => {
  it('matches float64 LayerNorm and the tfjs engine for every consumer', async () => {
    const n = net();
    const w = weights(n);
    const ort = await run('ort', n, w);
    const tfjs = await run('tfjs', n, w);
    const ln = compare(ort.ln, lnReference(w));
    console.log(`ort LayerNorm vs float64: max abs err ${ln.maxErr.toExponential(2)} (rel ${ln.rel.toExponential(2)}, tol ${PARITY_REL_TOL})`);
    expect(ln.rel).toBeLessThan(PARITY_REL_TOL);
    for (const k of ['ln', 'fc', 'down', 'same', 'res']) {
      const c = compare(ort[k], tfjs[k]);
      console.log(`ort vs tfjs ${k}: max abs err ${c.maxErr.toExponential(2)} (rel ${c.rel.toExponential(2)}, tol ${PARITY_REL_TOL})`);
      expect(c.rel).toBeLessThan(PARITY_REL_TOL);
    }
  });

  it('builds the native LayerNormalization, folds the affine where exact, applies it as a 1×1 depthwise conv elsewhere', () => {
    const n = net();
    const graph = Buffer.from(buildOnnx(n, weights(n)));
    expect(graph.includes('LayerNormalization')).toBe(true);
    expect(graph.includes('ReduceMean')).toBe(false);
    expect(graph.includes('fc.weight::folded(norm.weight)')).toBe(true);
    expect(graph.includes('down.weight::folded(norm.weight)')).toBe(true);
    expect(graph.includes('same.weight::folded')).toBe(false);
    expect(graph.includes('norm.weight::dw1x1')).toBe(true);
  });
});
