/**
 * Quantization arithmetic against hand-worked values and a numpy reference written to
 * onnxruntime.quantization's semantics (tools/fixtures/gen_quant.py): scales and zero points,
 * per-channel and per-tensor weights, int32 biases, and the min/max, percentile and entropy
 * thresholds of calibration data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activationQParams, computeQParams, percentileRange, quantizeBias, quantizeWeight, RangeCollector, roundHalfEven,
} from '../../../src/core/ort/quant/ranges.js';
import { FIXTURES } from '../../helpers.js';

interface Fixture {
  cases: Array<{ name: string; values: number[]; ranges: Record<'minmax' | 'percentile' | 'entropy', [number, number]>; qparams: Record<string, [number, number]> }>;
  weight: {
    dims: number[]; values: number[]; per_channel_scales: number[]; per_channel_q: number[]; per_tensor_scale: number; per_tensor_q: number[];
    uint8_q: number[]; bias: number[]; input_scale: number; bias_scales: number[]; bias_q: number[];
  };
}
const fx = JSON.parse(readFileSync(join(FIXTURES, 'quant', 'ranges.json'), 'utf8')) as Fixture;

describe('scale and zero point (hand-worked)', () => {
  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, -2.5, -0.5, 2.4999, 3.5].map(roundHalfEven)).toEqual([0, 2, 2, -2, -0, 2, 4]);
  });

  it('uint8 asymmetric: [-1, 3] → scale 4/255, zero point round(63.75) = 64', () => {
    const p = activationQParams(-1, 3);
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64);
  });

  it('widens the range to include 0: [0.5, 2] → zero point 0; [-2, -1] → zero point 255', () => {
    expect(activationQParams(0.5, 2)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
    expect(activationQParams(-2, -1)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 255 });
  });

  it('a degenerate range gets scale 1 and zero point 0', () => {
    expect(activationQParams(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('int8 symmetric: ±2.54 over [-127, 127] → scale 0.02, zero point 0', () => {
    const p = computeQParams(-1, 2.54, -127, 127, true);
    expect(p.scale).toBe(Math.fround(5.08 / 254));
    expect(p.zeroPoint).toBe(0);
  });

  it('per-channel and per-tensor weights (hand-worked)', () => {
    const w = Float32Array.of(1, -0.5, 0.25, 0.125);
    const pc = quantizeWeight(w, [2, 2], 0);
    expect(Array.from(pc.scales)).toEqual([Math.fround(1 / 127), Math.fround(0.25 / 127)]);
    // -0.5 · 127 = -63.5 → -64 and 0.125 / (0.25 / 127) = 63.5 → 64 (half to even).
    expect(Array.from(pc.data)).toEqual([127, -64, 127, 64]);
    const pt = quantizeWeight(w, [2, 2], null);
    expect(Array.from(pt.data)).toEqual([127, -64, 32, 16]);
    const u8 = quantizeWeight(w, [2, 2], 0, 'uint8');
    expect(u8.zeroPoint).toBe(128);
    expect(Array.from(u8.data)).toEqual([255, 64, 255, 192]);
  });

  it('reduce range: 7-bit levels ±64 (hand-worked)', () => {
    const w = Float32Array.of(1, -0.5, 0.25, 0.125);
    const pc = quantizeWeight(w, [2, 2], 0, 'int8', true);
    expect(Array.from(pc.scales)).toEqual([Math.fround(1 / 64), Math.fround(0.25 / 64)]);
    expect(Array.from(pc.data)).toEqual([64, -32, 64, 32]);
    expect(Array.from(quantizeWeight(w, [2, 2], 0, 'uint8', true).data)).toEqual([192, 96, 192, 160]);
  });

  it('an int32 bias has scale input × weight scale: 0.5 / (0.1 · 0.02) = 250', () => {
    const b = quantizeBias(Float32Array.of(0.5), 0.1, Float32Array.of(0.02));
    expect(b.scales[0]).toBe(Math.fround(0.1 * Math.fround(0.02)));
    expect(b.data[0]).toBe(250);
  });

  it('percentile thresholds round outwards to whole bins (hand-worked)', () => {
    // Masses 1, 6, 1 over [-3, -1, 1, 3]; 50 % cuts a quarter off each side, inside the middle bin.
    expect(percentileRange(Float64Array.of(1, 6, 1), Float64Array.of(-3, -1, 1, 3), 50)).toEqual([-1, 1]);
  });
});

describe('weights and biases against the reference', () => {
  const w = fx.weight;
  const values = Float32Array.from(w.values);
  it('per-channel int8 (a dead channel gets scale 1)', () => {
    const q = quantizeWeight(values, w.dims, 0);
    expect(Array.from(q.scales)).toEqual(w.per_channel_scales);
    expect(Array.from(q.data)).toEqual(w.per_channel_q);
  });
  it('per-tensor int8', () => {
    const q = quantizeWeight(values, w.dims, null);
    expect(q.scales[0]).toBe(w.per_tensor_scale);
    expect(Array.from(q.data)).toEqual(w.per_tensor_q);
  });
  it('uint8 around 128', () => {
    expect(Array.from(quantizeWeight(values, w.dims, 0, 'uint8').data)).toEqual(w.uint8_q);
  });
  it('int32 bias', () => {
    const b = quantizeBias(Float32Array.from(w.bias), w.input_scale, Float32Array.from(w.per_channel_scales));
    expect(Array.from(b.scales)).toEqual(w.bias_scales);
    expect(Array.from(b.data)).toEqual(w.bias_q);
  });
});

describe.each(['minmax', 'percentile', 'entropy'] as const)('%s calibration against the reference', (method) => {
  it.each(fx.cases)('$name', ({ values, ranges, qparams }) => {
    const c = new RangeCollector(method, { percentile: 99.9 });
    // Two calibration batches: ranges and histograms accumulate across runs.
    const data = Float32Array.from(values);
    const [a, b] = [data.subarray(0, 1500), data.subarray(1500)];
    c.observe('x', a);
    c.observe('x', b);
    if (c.needsHistogram) {
      c.startHistograms();
      c.observe('x', a);
      c.observe('x', b);
    }
    const r = c.ranges().get('x')!;
    // Exact up to float64 rounding of the bin edges.
    expect(r[0]).toBeCloseTo(ranges[method][0], 9);
    expect(r[1]).toBeCloseTo(ranges[method][1], 9);
    const p = activationQParams(r[0], r[1]);
    expect([p.scale, p.zeroPoint]).toEqual(qparams[method]);
  });
});

describe('empty observations', () => {
  it('a tensor that was empty in every run gets no range (its node stays float)', () => {
    const c = new RangeCollector('minmax');
    c.observe('empty', new Float32Array(0));
    c.observe('x', Float32Array.of(-1, 2));
    c.observe('x', new Float32Array(0));
    expect([...c.ranges()]).toEqual([['x', [-1, 2]]]);
  });
  it('infinite values are an error', () => {
    const c = new RangeCollector('minmax');
    c.observe('x', Float32Array.of(1, Infinity));
    expect(() => c.ranges()).toThrow(/value x is not finite/);
  });
});
