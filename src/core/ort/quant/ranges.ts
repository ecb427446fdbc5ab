/**
 * Quantization arithmetic and calibration: scales and zero points of a real range (onnxruntime's
 * `compute_scale_zp` semantics), weight quantization per tensor or per output channel, and the
 * activation range of calibration data by min/max, percentile or entropy (KL divergence).
 */
import { UserError } from '../../errors.js';

/** How an activation's range is chosen from calibration data. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** A quantization's scale and zero point. */
export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** Rounds half to even, like numpy.round. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * The scale and zero point mapping [rmin, rmax] (widened to include 0) onto the integers
 * [qmin, qmax]. Symmetric: the range is ±max(|rmin|, |rmax|) and the zero point the middle of
 * [qmin, qmax]. A degenerate range gets scale 1 and zero point 0. The scale is rounded to float32.
 */
export function computeQParams(rmin: number, rmax: number, qmin: number, qmax: number, symmetric: boolean): QParams {
  let lo = Math.min(rmin, 0);
  let hi = Math.max(rmax, 0);
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absmax;
    hi = absmax;
  }
  const scale = (hi - lo) / (qmax - qmin);
  if (!(scale >= FLOAT32_TINY)) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - lo / scale);
  return { scale: Math.fround(scale), zeroPoint: Math.min(qmax, Math.max(qmin, zeroPoint)) };
}

/** uint8 asymmetric parameters of an activation range. */
export function activationQParams(min: number, max: number): QParams {
  return computeQParams(min, max, 0, 255, false);
}

/** Quantizes one value: round(v / scale) + zeroPoint (float32 division, half to even), clipped. */
export function quantizeValue(v: number, p: QParams, qmin: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(v / p.scale)) + p.zeroPoint;
  return Math.min(qmax, Math.max(qmin, q));
}

/** A weight tensor quantized to int8 (symmetric, range ±127) or uint8 (symmetric around 128). */
export interface QuantizedWeight {
  data: Int8Array | Uint8Array;
  /** One scale per channel along `axis`, or one scale. */
  scales: Float32Array;
  zeroPoint: number;
  /** The channel axis, or null for one scale. */
  axis: number | null;
}

/**
 * Quantizes `w` (dims `dims`) symmetrically: per channel along `axis` (null: one scale). int8:
 * values in [-127, 127], zero point 0; uint8: [1, 255], zero point 128 (for kernels that take
 * unsigned weights with one zero point, such as onnxruntime's ConvInteger). `reduceRange`: 7-bit
 * levels, ±64 (onnxruntime's reduce_range), so that u8s8 kernels without VNNI cannot saturate
 * their 16-bit intermediate sums.
 */
export function quantizeWeight(w: Float32Array, dims: readonly number[], axis: number | null, type: 'int8' | 'uint8' = 'int8', reduceRange = false): QuantizedWeight {
  const channels = axis === null ? 1 : dims[axis];
  const inner = axis === null ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const chanOf = (i: number) => (axis === null ? 0 : Math.floor(i / inner) % channels);
  const absmax = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = chanOf(i);
    const a = Math.abs(w[i]);
    if (a > absmax[c]) absmax[c] = a;
  }
  const half = reduceRange ? 64 : 127;
  const zp = type === 'int8' ? 0 : 128;
  const params = Array.from(absmax, (m) => ({ scale: computeQParams(-m, m, -half, half, true).scale, zeroPoint: zp }));
  const data = type === 'int8' ? new Int8Array(w.length) : new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) data[i] = quantizeValue(w[i], params[chanOf(i)], zp - half, zp + half);
  return { data, scales: Float32Array.from(params, (p) => p.scale), zeroPoint: zp, axis };
}

/** A bias quantized to int32 with scale inputScale · weightScale[c] and zero point 0. */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: Float32Array): { data: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(b.length);
  const data = new Int32Array(b.length);
  for (let c = 0; c < b.length; c++) {
    let s = Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
    if (!(s >= FLOAT32_TINY)) s = 1;
    scales[c] = s;
    data[c] = Math.max(-2147483648, Math.min(2147483647, roundHalfEven(Math.fround(b[c] / s))));
  }
  return { data, scales };
}

/** Histogram settings of the percentile and entropy methods. */
export interface HistogramOptions {
  /** Bins over [-t, t], t the largest magnitude seen (2048). */
  bins?: number;
  /** Percentile method: the share of values kept, in percent (99.999). */
  percentile?: number;
  /** Entropy method: the quantized distribution's bins (128). */
  quantizedBins?: number;
}

/**
 * The thresholds (lo, hi) of the percentile method: (100 − p)/2 percent of the mass is cut off
 * each side (onnxruntime's asymmetric percentile calibration), rounded outwards to whole bins: lo
 * is the lower edge of the bin where the cumulative share first reaches the lower cut, hi the upper
 * edge of the bin where it first reaches 1 − cut (onnxruntime takes that bin's lower edge).
 */
export function percentileRange(hist: Float64Array, edges: Float64Array, percentile: number): [number, number] {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return [edges[0], edges[edges.length - 1]];
  const cut = (100 - percentile) / 200;
  const cdf = new Float64Array(hist.length);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) cdf[i] = acc += hist[i] / total;
  const search = (v: number) => {
    let i = 0;
    while (i < cdf.length - 1 && cdf[i] < v) i++;
    return i;
  };
  return [edges[search(cut)], edges[search(1 - cut) + 1]];
}

/** p with zeros replaced by eps and the mass taken from the non-zero entries; null if all zero. */
function smooth(p: Float64Array, eps = 1e-4): Float64Array | null {
  let zeros = 0;
  for (const v of p) if (v === 0) zeros++;
  const nonZeros = p.length - zeros;
  if (nonZeros === 0) return null;
  const eps1 = (eps * zeros) / nonZeros;
  return p.map((v) => (v === 0 ? eps : v - eps1));
}

/** KL(p ‖ q) of two distributions given as unnormalised masses. */
function klDivergence(p: Float64Array, q: Float64Array): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    if (a > 0) kl += b > 0 ? a * Math.log(a / b) : Infinity;
  }
  return kl;
}

/**
 * The thresholds of the entropy method (TensorRT's calibration, as onnxruntime's with 2048
 * histogram bins where onnxruntime defaults to 128): among the
 * ranges symmetric about the histogram's centre, the one whose clipped distribution p, merged
 * into `quantizedBins` bins and expanded back (q), has the least KL(p ‖ q); clamped to the
 * observed [min, max]. q spreads each merged bin's mass over its non-empty bins as floats.
 */
export function entropyRange(hist: Float64Array, edges: Float64Array, quantizedBins: number, min: number, max: number): [number, number] {
  const n = hist.length;
  const zero = Math.floor(n / 2);
  const half = Math.floor(quantizedBins / 2);
  let best = Infinity;
  let range: [number, number] = [edges[0], edges[n]];
  for (let i = half; i <= zero; i++) {
    const start = zero - i;
    const end = Math.min(zero + i + 1, n);
    const sliced = hist.slice(start, end);
    const p = Float64Array.from(sliced);
    for (let j = 0; j < start; j++) p[0] += hist[j];
    for (let j = end; j < n; j++) p[p.length - 1] += hist[j];
    const merged = Math.floor(sliced.length / quantizedBins);
    const q = new Float64Array(p.length);
    for (let b = 0; b < quantizedBins; b++) {
      const s = b * merged;
      const e = b === quantizedBins - 1 ? sliced.length : s + merged;
      let mass = 0;
      let nonZero = 0;
      for (let j = s; j < e; j++) {
        mass += sliced[j];
        if (p[j] !== 0) nonZero++;
      }
      if (nonZero) for (let j = s; j < e; j++) if (p[j] !== 0) q[j] = mass / nonZero;
    }
    const ps = smooth(p);
    const qs = smooth(q);
    const kl = ps && qs ? klDivergence(ps, qs) : Infinity;
    if (kl < best) {
      best = kl;
      range = [edges[start], edges[end]];
    }
  }
  return [Math.max(range[0], min), Math.min(range[1], max)];
}

interface Track {
  min: number;
  max: number;
  hist?: Float64Array;
  /** Half-width of the histogram's range. */
  t?: number;
}

/**
 * Collects activation ranges over calibration runs. Min/max needs one pass; percentile and
 * entropy a second pass that fills a histogram over [-t, t] (t the largest magnitude of pass 1).
 */
export class RangeCollector {
  private readonly tracks = new Map<string, Track>();
  private pass: 1 | 2 = 1;
  private readonly bins: number;

  constructor(readonly method: CalibrationMethod, private readonly opts: HistogramOptions = {}) {
    this.bins = opts.bins ?? 2048;
  }

  /** Whether the method needs the second (histogram) pass. */
  get needsHistogram(): boolean {
    return this.method !== 'minmax';
  }

  /** Starts the histogram pass (after every calibration input went through pass 1). */
  startHistograms(): void {
    this.pass = 2;
    for (const t of this.tracks.values()) {
      t.t = Math.max(Math.abs(t.min), Math.abs(t.max));
      t.hist = new Float64Array(this.bins);
    }
  }

  /** Observes one run's values of tensor `name`. */
  observe(name: string, data: Float32Array): void {
    let t = this.tracks.get(name);
    if (this.pass === 1) {
      if (!t) this.tracks.set(name, (t = { min: Infinity, max: -Infinity }));
      let lo = t.min;
      let hi = t.max;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      t.min = lo;
      t.max = hi;
      return;
    }
    if (!t?.hist || t.t === undefined) throw new Error(`calibration: ${name} was not seen in the first pass`);
    if (t.t === 0) return;
    const h = t.hist;
    const k = this.bins / (2 * t.t);
    const last = this.bins - 1;
    for (let i = 0; i < data.length; i++) {
      const b = Math.floor((data[i] + t.t) * k);
      h[b < 0 ? 0 : b > last ? last : b]++;
    }
  }

  /** The tensors seen so far. */
  names(): string[] {
    return [...this.tracks.keys()];
  }

  /** The chosen range of every tensor that held values (empty in every run: none). */
  ranges(): Map<string, [number, number]> {
    const out = new Map<string, [number, number]>();
    for (const [name, t] of this.tracks) {
      if (t.min === Infinity && t.max === -Infinity) continue;
      if (!Number.isFinite(t.min) || !Number.isFinite(t.max)) throw new UserError(`calibration: the model's value ${name} is not finite on the calibration inputs (min ${t.min}, max ${t.max})`);
      // An empty histogram (no values in the second pass) falls back to min/max.
      if (this.method === 'minmax' || !t.hist || !t.t || !t.hist.some((v) => v > 0)) {
        out.set(name, [t.min, t.max]);
        continue;
      }
      const edges = Float64Array.from({ length: this.bins + 1 }, (_, i) => -t.t! + (2 * t.t! * i) / this.bins);
      out.set(name, this.method === 'percentile'
        ? percentileRange(t.hist, edges, this.opts.percentile ?? 99.999)
        : entropyRange(t.hist, edges, this.opts.quantizedBins ?? 128, t.min, t.max));
    }
    return out;
  }
}
