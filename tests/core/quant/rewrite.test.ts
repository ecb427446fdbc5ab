/**
 * The int8 rewrites on a narrow ConvNeXt (torchvision V1 weights of the golden fixture): static
 * QDQ with calibration, per tensor and per channel, exclusions, and dynamic quantization. Each
 * quantized graph runs on onnxruntime, its convolutions and matmuls run as integer kernels, and
 * its outputs stay within a stated cosine of the float graph's.
 */
import { cosineSimilarity } from '../../../src/core/similarity.js';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { runSession, sessionOptions } from '../../../src/core/ort/runner.js';
import { GraphBuilder } from '../../../src/core/ort/graph.js';
import { decodeModel, DT } from '../../../src/core/ort/quant/onnx-proto.js';
import { type GraphQuantOptions, quantizeGraph } from '../../../src/core/ort/quant/quantize-graph.js';
import { planQuantization } from '../../../src/core/ort/quant/rewrite.js';
import { countKernels } from '../../../src/core/ort/quant/tap.js';
import { bindWeights } from '../../../src/core/weights.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { Classifier } from '../../../src/tasks/classification/classifier.js';
import { exportGraph } from '../../../src/tasks/export-onnx.js';
import { classifierConfig, FIXTURES, loadIo } from '../../helpers.js';

const cfg = classifierConfig('test_convnext-t-narrow_cls10');
let fp32: Uint8Array;
let input: HostTensor;
let reference: Record<string, HostTensor>;
/** Calibration inputs: the fixture image and two perturbations of it. */
let calibration: HostTensor[];


async function run(model: Uint8Array, x: HostTensor): Promise<Record<string, HostTensor>> {
  const s = await ort.InferenceSession.create(model, sessionOptions({ threads: 1 }));
  try {
    return await runSession(s, x);
  } finally {
    await s.release();
  }
}

beforeAll(async () => {
  const dir = join(FIXTURES, 'backbone');
  const io = await loadIo(join(dir, 'tv_v1.io.safetensors'));
  const net = new Classifier(cfg).network();
  const { weights } = bindWeights(net.registry, (await loadWeights(join(dir, 'tv_v1.weights.safetensors'))).tensors);
  input = io.input;
  const [h, w] = [input.shape[2], input.shape[3]];
  fp32 = exportGraph(cfg, net, weights, { name: 'narrow', size: [h, w], batch: input.shape[0], pointwise: 'matmul' });
  reference = await run(fp32, input);
  calibration = [input, ...[0.8, 1.2].map((k) => ({ shape: input.shape, data: input.data.map((v, i) => v * k + 0.1 * Math.sin(i)) }))];
});

async function quantized(o: Partial<GraphQuantOptions>) {
  return quantizeGraph(fp32, { mode: 'static', method: 'minmax', perChannel: true, threads: 1, ...o }, async (tap) => {
    for (const x of calibration) await tap.run(x);
  });
}

describe('static int8 (QDQ)', () => {
  it('per channel: every conv and matmul runs as an integer kernel, the logits layer stays float; cosine ≥ 0.99', async () => {
    const plan = planQuantization(decodeModel(fp32));
    const convs = plan.targets.filter((t) => t.node.opType === 'Conv').length;
    const matmuls = plan.targets.filter((t) => t.node.opType === 'MatMul').length;
    expect(convs).toBeGreaterThan(0);
    expect(matmuls).toBeGreaterThan(0);
    // Every MatMul is a block's pointwise layer whose bias Add is absorbed.
    expect(plan.targets.filter((t) => t.biasAdd).length).toBe(matmuls);
    const q = await quantized({});
    expect(q.quantized).toBe(plan.targets.length);
    const k = await countKernels(q.bytes, { threads: 1 });
    // The head's Gemm writes the graph output `logits`: kept float, at full precision.
    expect(k.float).toEqual({ Gemm: 1 });
    expect(k.integer.QLinearConv).toBe(convs);
    expect(k.integer.MatMulIntegerToFloat).toBe(matmuls);
    expect(k.integer.QGemm).toBeUndefined();
    const out = await run(q.bytes, input);
    const c = cosineSimilarity(reference.logits.data, out.logits.data);
    console.log(`static per-channel logits cosine ${c.toFixed(5)}`);
    expect(c).toBeGreaterThanOrEqual(0.99);
    const md = decodeModel(q.bytes).metadataProps ?? [];
    expect(JSON.parse(md.find((p) => p.key === 'convnext.quantization')!.value)).toMatchObject({ mode: 'static', method: 'minmax', per_channel: true });
    // Weights are stored as int8: the file is far smaller than the float one.
    expect(q.bytes.length).toBeLessThan(fp32.length * 0.4);
  });

  it('per tensor and the histogram methods also stay within cosine 0.98', async () => {
    for (const o of [{ perChannel: false }, { method: 'percentile' as const }, { method: 'entropy' as const }]) {
      const out = await run((await quantized(o)).bytes, input);
      const c = cosineSimilarity(reference.logits.data, out.logits.data);
      console.log(`static ${JSON.stringify(o)} logits cosine ${c.toFixed(5)}`);
      expect(c).toBeGreaterThanOrEqual(0.98);
    }
  });

  it('reduce range: every int8 weight lies in [-64, 64]; cosine ≥ 0.98', async () => {
    const q = await quantized({ reduceRange: true });
    const m = decodeModel(q.bytes);
    const weights = m.graph.initializer.filter((t) => t.dataType === DT.INT8 && t.dims.length > 1);
    expect(weights.length).toBeGreaterThan(0);
    for (const t of weights) {
      const v = new Int8Array(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.byteLength);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(64);
    }
    const c = cosineSimilarity(reference.logits.data, (await run(q.bytes, input)).logits.data);
    console.log(`static reduce-range logits cosine ${c.toFixed(5)}`);
    expect(c).toBeGreaterThanOrEqual(0.98);
  });

  it('excluded nodes stay float', async () => {
    const q = await quantized({ exclude: [/dwconv/] });
    const dw = planQuantization(decodeModel(fp32)).targets.filter((t) => /dwconv/.test(t.weight.name)).length;
    expect(dw).toBeGreaterThan(0);
    expect(q.excluded.length).toBe(dw);
    const m = decodeModel(q.bytes);
    const floatInits = new Set(m.graph.initializer.filter((t) => t.dataType === DT.FLOAT).map((t) => t.name));
    const floatConvs = m.graph.node.filter((n) => n.opType === 'Conv' && floatInits.has(n.input[1]));
    expect(floatConvs.length).toBe(dw);
    expect(floatConvs.every((n) => /dwconv/.test(n.input[1]))).toBe(true);
    expect((await countKernels(q.bytes, { threads: 1 })).float).toEqual({ Conv: dw, Gemm: 1 });
  });

  it('refuses a calibration that never runs the model', async () => {
    await expect(quantizeGraph(fp32, { mode: 'static', method: 'minmax', perChannel: true }, async () => undefined)).rejects.toThrow(/calibration never ran the model/);
  });
});

describe('dynamic int8', () => {
  it('matmuls become DynamicQuantizeMatMul, dense convs ConvInteger, depthwise convs and the logits layer stay float; cosine ≥ 0.99', async () => {
    const q = await quantizeGraph(fp32, { mode: 'dynamic', method: 'minmax', perChannel: true, threads: 1 }, async () => {
      throw new Error('dynamic mode does not calibrate');
    });
    const k = await countKernels(q.bytes, { threads: 1 });
    const plan = planQuantization(decodeModel(fp32));
    const matmuls = plan.targets.filter((t) => t.node.opType !== 'Conv').length;
    const grouped = plan.targets.filter((t) => t.node.opType === 'Conv' && (t.node.attribute?.find((a) => a.name === 'group')?.i ?? 1) > 1).length;
    expect(k.integer.DynamicQuantizeMatMul).toBe(matmuls);
    expect(k.integer.ConvInteger).toBe(plan.targets.length - matmuls - grouped);
    // Float: the depthwise convs and the logits Gemm (a graph output).
    expect(k.float).toEqual({ Conv: grouped, Gemm: 1 });
    const out = await run(q.bytes, input);
    const c = cosineSimilarity(reference.logits.data, out.logits.data);
    console.log(`dynamic logits cosine ${c.toFixed(5)}`);
    expect(c).toBeGreaterThanOrEqual(0.99);
  });
});

describe('a MatMul whose constant is its first input (W · x, as in the segmentation head)', () => {
  it('static mode runs it as MatMulIntegerToFloat with uint8 weights; outputs within 2 % of the range', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', [1, 1, 3, 20]);
    const w = Float32Array.from({ length: 18 }, (_, i) => Math.cos(i * 0.7));
    const y = g.op('MatMul', [g.floatInit('head.weight', [6, 3], w), x.id]);
    g.output('y', { id: y, rank: 4 });
    const model = g.toBytes();
    const plan = planQuantization(decodeModel(model));
    expect(plan.targets.map((t) => [t.weightLeft, t.weight.name])).toEqual([[true, 'head.weight']]);
    expect(plan.activations).toEqual(['input']);
    const xs: HostTensor = { shape: [1, 1, 3, 20], data: Float32Array.from({ length: 60 }, (_, i) => Math.sin(i * 0.3)) };
    const q = await quantizeGraph(model, { mode: 'static', method: 'minmax', perChannel: true, threads: 1 }, async (tap) => {
      await tap.run(xs);
    });
    expect((await countKernels(q.bytes, { threads: 1 })).integer).toEqual({ MatMulIntegerToFloat: 1 });
    const [a, b] = [(await run(model, xs)).y.data, (await run(q.bytes, xs)).y.data];
    const range = Math.max(...a.map(Math.abs));
    const err = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    console.log(`W · x int8: max abs err ${err.toExponential(2)} of range ${range.toFixed(3)}`);
    expect(err).toBeLessThanOrEqual(0.02 * range);
    // Dynamic mode leaves it float (its dynamic kernel quantizes the other operand).
    expect(planQuantization(decodeModel(model), { mode: 'dynamic' }).targets).toEqual([]);
  });
});
