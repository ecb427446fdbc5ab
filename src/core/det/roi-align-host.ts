/**
 * RoIAlign on the host, in both directions, with torchvision's `roi_align` CPU kernel semantics
 * (mmcv's RoIAlign is the same): bin grid, adaptive sampling ratio ceil(roi / output), the −0.5
 * shift of `aligned`, the RoI side ≥ 1 of the legacy mode, and the out-of-range rules (a sample
 * beyond [−1, size] reads zero, one in (−1, 0] reads the edge), positions in float32.
 *
 * A bin's value is the mean of its samples' bilinear interpolations. Bilinear weights factor into
 * a row weight times a column weight, and a bin's samples form a grid, so the bin's weights over
 * the cells are the outer product of one weight vector over rows and one over columns. Each RoI is
 * therefore described by `o` short row vectors and `o` short column vectors (a few entries per
 * sample), whatever its size, and pooling costs one multiply-add per channel and cell the RoI
 * covers. Memory is the output (or, backwards, the gradient of the features): nothing grows with
 * the number of samples.
 */

const f = Math.fround;

/** Sampling settings of one pyramid level. */
export interface RoiAlignHostSpec {
  /** Output side (7 for boxes, 14 or 28 for masks). */
  output: number;
  /** Samples per bin and axis; 0: adaptive, ceil(roi side / output). */
  samplingRatio: number;
  /** true: pixel model shifted by −0.5; false: legacy (RoI side at least 1). */
  aligned: boolean;
}

/** A feature map in NHWC order (one image): data [h·w·c] (a 0/1 mask works too). */
export interface HostMap {
  data: ArrayLike<number>;
  h: number;
  w: number;
  c: number;
}

/** Weights of one axis: output index p reads cells cell[start[p] … start[p + 1]) with those weights. */
export interface AxisWeights {
  start: Int32Array;
  cell: Int32Array;
  weight: Float32Array;
}

/**
 * The per-axis weights of one RoI side: `lo` and `hi` are the RoI's ends in map coordinates
 * (already scaled), `size` the map's extent along the axis. Each sample's two bilinear weights
 * are divided by the sample count of the axis.
 */
export function axisWeights(lo: number, hi: number, size: number, spec: RoiAlignHostSpec): AxisWeights {
  const out = spec.output;
  let len = f(hi - lo);
  if (!spec.aligned) len = Math.max(len, 1);
  const bin = f(len / out);
  const grid = spec.samplingRatio > 0 ? spec.samplingRatio : Math.ceil(f(len / out));
  const start = new Int32Array(out + 1);
  const cells: number[] = [];
  const weights: number[] = [];
  for (let p = 0; p < out; p++) {
    start[p] = cells.length;
    for (let i = 0; i < grid; i++) {
      let v = f(f(lo + f(p * bin)) + f(f(f(i + 0.5) * bin) / grid));
      if (v < -1 || v > size) continue;
      if (v <= 0) v = 0;
      let low = Math.trunc(v);
      let high = low + 1;
      if (low >= size - 1) {
        high = low = size - 1;
        v = low;
      }
      const l = f(v - low);
      add(cells, weights, start[p], low, f(1 - l) / grid);
      if (l !== 0) add(cells, weights, start[p], high, l / grid);
    }
  }
  start[out] = cells.length;
  return { start, cell: Int32Array.from(cells), weight: Float32Array.from(weights) };
}

/** Adds weight `wt` to `cell` in the run of entries from `from` (samples ascend, so only the last two can match). */
function add(cells: number[], weights: number[], from: number, cell: number, wt: number): void {
  for (let j = Math.max(from, cells.length - 2); j < cells.length; j++) {
    if (cells[j] === cell) {
      weights[j] += wt;
      return;
    }
  }
  cells.push(cell);
  weights.push(wt);
}

/** Row and column weights of RoI (x1, y1, x2, y2) in input coordinates on a map of `scale`. */
export function roiAxes(roi: ArrayLike<number>, scale: number, h: number, w: number, spec: RoiAlignHostSpec): { rows: AxisWeights; cols: AxisWeights } {
  const s = f(scale);
  const offset = spec.aligned ? 0.5 : 0;
  const at = (v: number) => f(f(v * s) - offset);
  return {
    rows: axisWeights(at(roi[1]), at(roi[3]), h, spec),
    cols: axisWeights(at(roi[0]), at(roi[2]), w, spec),
  };
}

/**
 * Visits every (RoI, bin, cell, weight) of `rois` on their levels: `visit(i, level, outOffset,
 * cellOffset, weight)` with the RoI's first output element i·o·o·C plus bin·C, and the cell's first
 * element (y·w + x)·C in its level's map.
 */
function eachTerm(maps: ReadonlyArray<Omit<HostMap, 'data'>>, scales: readonly number[], rois: ArrayLike<number>, levels: ArrayLike<number>, spec: RoiAlignHostSpec, visit: (level: number, out: number, cell: number, weight: number) => void): void {
  const o = spec.output;
  const c = maps[0].c;
  for (let i = 0; i < rois.length / 4; i++) {
    const l = levels[i];
    const m = maps[l];
    const { rows, cols } = roiAxes([rois[4 * i], rois[4 * i + 1], rois[4 * i + 2], rois[4 * i + 3]], scales[l], m.h, m.w, spec);
    const base = i * o * o;
    for (let ph = 0; ph < o; ph++) {
      for (let a = rows.start[ph]; a < rows.start[ph + 1]; a++) {
        const rowOffset = rows.cell[a] * m.w;
        const wy = rows.weight[a];
        for (let pw = 0; pw < o; pw++) {
          const out = (base + ph * o + pw) * c;
          for (let b = cols.start[pw]; b < cols.start[pw + 1]; b++) visit(l, out, (rowOffset + cols.cell[b]) * c, wy * cols.weight[b]);
        }
      }
    }
  }
}

/**
 * Pools RoI r of `rois` [R·4] (input coordinates) from `maps[levels[r]]` (scale `scales[l]`) →
 * [R, o, o, C] in NHWC order.
 */
export function roiAlignForward(maps: readonly HostMap[], scales: readonly number[], rois: ArrayLike<number>, levels: ArrayLike<number>, spec: RoiAlignHostSpec): Float32Array {
  const c = maps[0].c;
  const out = new Float32Array((rois.length / 4) * spec.output * spec.output * c);
  eachTerm(maps, scales, rois, levels, spec, (l, dst, src, wt) => {
    const x = maps[l].data;
    for (let ch = 0; ch < c; ch++) out[dst + ch] += wt * x[src + ch];
  });
  return out;
}

/**
 * The transpose of {@link roiAlignForward}: the gradient `dy` [R, o, o, C] (NHWC) spread back onto
 * each map → one [h·w·c] array per map.
 */
export function roiAlignBackward(maps: ReadonlyArray<Omit<HostMap, 'data'>>, scales: readonly number[], rois: ArrayLike<number>, levels: ArrayLike<number>, spec: RoiAlignHostSpec, dy: ArrayLike<number>): Float32Array[] {
  const c = maps[0].c;
  const grads = maps.map((m) => new Float32Array(m.h * m.w * m.c));
  eachTerm(maps, scales, rois, levels, spec, (l, src, dst, wt) => {
    const g = grads[l];
    for (let ch = 0; ch < c; ch++) g[dst + ch] += wt * dy[src + ch];
  });
  return grads;
}
