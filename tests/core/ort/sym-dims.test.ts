/**
 * Symbolic shapes in the ONNX engine (src/core/ort/sym-dims.ts): the shapes the engine states for
 * fixed input sizes equal the shapes onnxruntime produces (odd sizes, strided and padded windows,
 * pooling, transposed conv, resizes, concat); dynamic sizes get names that agree exactly where
 * the derivations agree; residual adds of a dynamic ConvNeXt are annotated, and onnxruntime's
 * NCHWc pass then fuses every one of them into a convolution.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ConvNeXt } from '../../../src/backbones/convnext.js';
import { Conv2d, Linear } from '../../../src/core/layers.js';
import type { Network } from '../../../src/core/model.js';
import type { Ops } from '../../../src/core/ops.js';
import { buildOnnx } from '../../../src/core/ort/build.js';
import { GraphBuilder, ModelProto, type Sym } from '../../../src/core/ort/graph.js';
import { OrtOps } from '../../../src/core/ort/ops.js';
import { Scope } from '../../../src/core/params.js';
import { initWeights } from '../../../src/core/weights.js';

interface DecodedModel {
  graph: { node: Array<{ opType: string; domain?: string }>; valueInfo?: Array<{ name: string }> };
}

function decode(bytes: Uint8Array): DecodedModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { defaults: false }) as DecodedModel;
}

/** Layers for a graph of shape-changing ops on a 4-channel input. */
function layers() {
  const s = Scope.root();
  return {
    registry: s.registry,
    down: new Conv2d(s.child('down'), 4, 8, 3, { stride: 2, padding: 1 }),
    patch: new Conv2d(s.child('patch'), 4, 8, 2, { stride: 2 }),
    dw: new Conv2d(s.child('dw'), 4, 4, 7, { padding: 3, groups: 4 }),
    fc: new Linear(s.child('fc'), 4, 6),
    up: s.param('up.weight', [8, 5, 2, 2], { kind: 'normal', std: 0.1 }),
  };
}

function shapeOps(ops: Ops<Sym>, x: Sym, l: ReturnType<typeof layers>): Record<string, Sym> {
  const d = l.down.forward(ops, x);
  return {
    down: d,
    patch: l.patch.forward(ops, x),
    dw: l.dw.forward(ops, x),
    fc: l.fc.forward(ops, x),
    up: ops.convTranspose2d(d, l.up, null, { stride: 2 }),
    maxPool: ops.maxPool(x, { kernel: 3, stride: 2, padding: 1 }),
    avgPool: ops.avgPool(x, { kernel: 2 }),
    scaled: ops.resize(d, { scale: 2 }, 'nearest'),
    likeX: ops.resize(d, { like: x }, 'bilinear'),
    sized: ops.resize(d, { size: [5, 9] }, 'bilinear'),
    cat: ops.concat([x, ops.resize(d, { like: x }, 'bilinear')]),
    adaptive: ops.adaptiveAvgPool(x, [3, 5]),
    spatial: ops.reduceSpatial(x, 'mean'),
    pooled: ops.globalAvgPool(x),
  };
}

describe('ort symbolic shapes', () => {
  it.each([[23, 37], [16, 9], [3, 2]])('stated shapes equal onnxruntime\'s at %i×%i', async (h, w) => {
    const l = layers();
    const g = new GraphBuilder();
    const ops = new OrtOps(g, initWeights(l.registry, 1));
    const outs = shapeOps(ops, g.input('input', [2, 4, h, w]), l);
    for (const [k, v] of Object.entries(outs)) g.output(k, ops.materialize(v));
    const session = await ort.InferenceSession.create(g.toBytes());
    const res = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 4 * h * w).fill(0.5), [2, 4, h, w]) });
    for (const [k, v] of Object.entries(outs)) expect([k, v.dims]).toEqual([k, res[k].dims.map(Number)]);
    await session.release();
  });

  it('names dynamic sizes by derivation: equal where the derivations agree, not elsewhere', () => {
    const l = layers();
    const g = new GraphBuilder();
    const ops = new OrtOps(g, initWeights(l.registry, 1));
    const x = g.input('input', ['n', 4, 'h', 'w']);
    const outs = shapeOps(ops, x, l);
    expect(outs.dw.dims).toEqual(['n', 4, 'h', 'w']);
    expect(outs.fc.dims).toEqual(['n', 6, 'h', 'w']);
    expect(outs.likeX.dims).toEqual(['n', 8, 'h', 'w']);
    expect(outs.cat.dims).toEqual(['n', 12, 'h', 'w']);
    expect(outs.sized.dims).toEqual(['n', 8, 5, 9]);
    expect(outs.adaptive.dims).toEqual(['n', 4, 3, 5]);
    expect(outs.spatial.dims).toEqual(['n', 4, 1, 1]);
    expect(outs.pooled.dims).toEqual(['n', 4]);
    // k3 s2 p1 and k2 s2 p0 give equal sizes only for even inputs: different names, no shape.
    expect(outs.down.dims?.[2]).not.toEqual(outs.patch.dims?.[2]);
    expect(ops.add(outs.down, outs.patch).dims).toBeUndefined();
    // The same derivation twice gives the same name, and their sum is annotated with it.
    const again = l.down.forward(ops, x);
    expect(again.dims).toEqual(outs.down.dims);
    const sum = ops.add(again, outs.down);
    expect(sum.dims).toEqual(outs.down.dims);
    const annotated = new Set((decode(g.toBytes()).graph.valueInfo ?? []).map((v) => v.name));
    expect([again.id, outs.down.id, sum.id].every((n) => annotated.has(n))).toBe(true);
  });

  it('a dynamic ConvNeXt annotates its residual adds; onnxruntime fuses all of them into convolutions', async (ctx) => {
    const s = Scope.root();
    const net = new ConvNeXt(s, { version: 1, depths: [2, 1, 2, 1], dims: [16, 32, 64, 128], layerScaleInit: 0.5 });
    const network: Network = {
      registry: s.registry,
      inputChannels: 3,
      outputs: { p5: 4 },
      forward: (ops, x) => ({ p5: net.stagesForward(ops, x)[3] }),
    };
    const bytes = buildOnnx(network, initWeights(s.registry, 2));
    const names = new Set((decode(bytes).graph.valueInfo ?? []).map((v) => v.name));
    // Six blocks: each residual add's branch and output, plus each of the four stages' input.
    expect(names.size).toBe(2 * 6 + 4);
    const dir = mkdtempSync(join(tmpdir(), 'cnx-symdims-'));
    try {
      const optimized = join(dir, 'opt.onnx');
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
      await session.release();
      const nodes = decode(readFileSync(optimized)).graph.node;
      // onnxruntime's NCHWc layout exists on x86-64 with AVX2 and up; elsewhere there is nothing to fuse into.
      if (!nodes.some((n) => n.domain === 'com.microsoft.nchwc')) ctx.skip();
      expect(nodes.filter((n) => n.opType === 'Add' || n.opType === 'Reshape').map((n) => n.opType)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
