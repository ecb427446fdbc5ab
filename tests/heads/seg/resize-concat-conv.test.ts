/**
 * The fused resize-concat-conv of the ONNX engine (src/core/ort/resize-concat-conv.ts: kernel taps
 * applied at low resolution, interpolation as GEMMs built from runtime sizes) against the plain
 * composition resize → concat → conv2d on both engines: odd, non-integer size ratios, batch 2,
 * kernels 1, 3 and 5, bias, and a padding that takes the fallback path.
 */
import { describe, expect, it } from 'vitest';
import { createRunner, type EngineName } from '../../../src/core/engine.js';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { resizeConcatConv } from '../../../src/core/fused.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { Conv2d } from '../../../src/core/layers.js';
import type { Network } from '../../../src/core/model.js';
import type { Ops } from '../../../src/core/ops.js';
import { Scope } from '../../../src/core/params.js';
import { initWeights } from '../../../src/core/weights.js';
import { compare } from '../../helpers.js';

/** Maps of 4, 3, 5, 2 channels at the input size and three adaptive-pooled smaller sizes. */
function net(kernel: number, padding: number, fused: boolean): Network {
  const scope = Scope.root();
  const sizes: Array<[number, number]> = [[12, 19], [6, 10], [3, 5]];
  const chans = [4, 3, 5, 2];
  const proj = chans.slice(1).map((c, i) => new Conv2d(scope.child(`proj${i}`), 4, c, 1));
  const conv = new Conv2d(scope.child('fuse'), 14, 6, kernel, { padding });
  return {
    registry: scope.registry,
    inputChannels: 4,
    outputs: { y: 4 },
    forward: <T>(ops: Ops<T>, x: T) => {
      const xs = [x, ...sizes.map((s, i) => proj[i].forward(ops, ops.adaptiveAvgPool(x, s)))];
      if (fused) return { y: resizeConcatConv(ops, xs, chans, conv.weight, conv.bias, conv.opts) };
      const up = xs.map((v, i) => (i === 0 ? v : ops.resize(v, { like: x }, 'bilinear', false)));
      return { y: conv.forward(ops, ops.concat(up)) };
    },
  };
}

const input: HostTensor = { shape: [2, 4, 23, 37], data: Float32Array.from({ length: 2 * 4 * 23 * 37 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011)) };

async function run(engine: EngineName, n: Network): Promise<HostTensor> {
  const r = await createRunner(engine, n, initWeights(n.registry, 3), { backend: 'wasm' });
  try {
    return (await r.run(input)).y;
  } finally {
    await r.dispose();
  }
}

describe('resizeConcatConv', () => {
  it.each([
    { kernel: 3, padding: 1 },
    { kernel: 1, padding: 0 },
    { kernel: 5, padding: 2 },
    { kernel: 3, padding: 0 },
  ])('kernel $kernel padding $padding: ort fused = ort and tfjs compositions', async ({ kernel, padding }) => {
    const fusedOrt = await run('ort', net(kernel, padding, true));
    const plainOrt = await run('ort', net(kernel, padding, false));
    const plainTfjs = await run('tfjs', net(kernel, padding, false));
    const fusedTfjs = await run('tfjs', net(kernel, padding, true));
    const side = 23 + 2 * padding - kernel + 1;
    expect(fusedOrt.shape).toEqual([2, 6, side, 37 + 2 * padding - kernel + 1]);
    for (const other of [plainOrt, plainTfjs, fusedTfjs]) expect(compare(fusedOrt, other).rel).toBeLessThan(1e-5);
    // The "same" convolutions take the decomposed path: GEMMs, no Resize node; the other falls back.
    const n = net(kernel, padding, true);
    const graph = Buffer.from(buildOnnx(n, initWeights(n.registry, 3)));
    const same = padding === (kernel - 1) / 2;
    expect(graph.includes('Resize')).toBe(!same);
    expect(graph.includes('MatMul')).toBe(same);
  });
});
