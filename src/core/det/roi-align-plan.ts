/**
 * RoIAlign as a sparse sampling plan on the host: for each RoI and output bin, the feature-map
 * cells it reads and their weights (bilinear weights of every sample, averaged over the bin).
 * Sample positions follow torchvision's `roi_align` CPU kernel (and mmcv's, which is the same),
 * in float32: bin grid, adaptive sampling ratio ceil(roi / output), the −0.5 shift of
 * `aligned`, the RoI side ≥ 1 of the legacy mode, and the out-of-range rules (a sample beyond
 * [−1, size] reads zero, one in (−1, 0] reads the edge).
 *
 * The engine applies the plan with a gather and a weighted sum, which is differentiable with
 * respect to the features.
 */

const f = Math.fround;

export interface RoiAlignPlanOptions {
  output: number;
  scale: number;
  samplingRatio: number;
  aligned: boolean;
}

/** Cells and weights for `numBins = R·o·o` bins, padded to `k` entries per bin (weight 0). */
export interface RoiAlignPlan {
  numBins: number;
  k: number;
  /** [numBins·k] flat cell indices y·W + x. */
  index: Int32Array;
  /** [numBins·k] weights (already divided by the sample count). */
  weight: Float32Array;
}

/** Bilinear corners of one sample along one axis: [low, high, weightLow, weightHigh], or null (reads 0). */
function axisSample(v: number, size: number): [number, number, number, number] | null {
  if (v < -1 || v > size) return null;
  if (v <= 0) v = 0;
  let low = Math.trunc(v);
  let high: number;
  if (low >= size - 1) {
    high = low = size - 1;
    v = low;
  } else {
    high = low + 1;
  }
  const l = f(v - low);
  return [low, high, f(1 - l), l];
}

/** Builds the plan of RoIs [R·4] (x1, y1, x2, y2) over an H × W map. */
export function roiAlignPlan(rois: Float32Array, h: number, w: number, o: RoiAlignPlanOptions): RoiAlignPlan {
  const r = rois.length / 4;
  const out = o.output;
  const bins: Array<Map<number, number>> = [];
  const offset = o.aligned ? 0.5 : 0;
  const scale = f(o.scale);
  for (let i = 0; i < r; i++) {
    const sx = f(f(rois[4 * i] * scale) - offset);
    const sy = f(f(rois[4 * i + 1] * scale) - offset);
    const ex = f(f(rois[4 * i + 2] * scale) - offset);
    const ey = f(f(rois[4 * i + 3] * scale) - offset);
    let rw = f(ex - sx);
    let rh = f(ey - sy);
    if (!o.aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bh = f(rh / out);
    const bw = f(rw / out);
    const gh = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(f(rh / out));
    const gw = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(f(rw / out));
    const count = Math.max(gh * gw, 1);
    for (let ph = 0; ph < out; ph++) {
      const ys: Array<[number, number, number, number] | null> = [];
      for (let iy = 0; iy < gh; iy++) {
        ys.push(axisSample(f(f(sy + f(ph * bh)) + f(f(f(iy + 0.5) * bh) / gh)), h));
      }
      for (let pw = 0; pw < out; pw++) {
        const cells = new Map<number, number>();
        for (const y of ys) {
          for (let ix = 0; ix < gw; ix++) {
            const x = axisSample(f(f(sx + f(pw * bw)) + f(f(f(ix + 0.5) * bw) / gw)), w);
            if (!y || !x) continue;
            const add = (cy: number, cx: number, wt: number) => {
              const key = cy * w + cx;
              cells.set(key, (cells.get(key) ?? 0) + wt);
            };
            add(y[0], x[0], f(y[2] * x[2]));
            add(y[0], x[1], f(y[2] * x[3]));
            add(y[1], x[0], f(y[3] * x[2]));
            add(y[1], x[1], f(y[3] * x[3]));
          }
        }
        for (const [key, wt] of cells) cells.set(key, wt / count);
        bins.push(cells);
      }
    }
  }
  let k = 1;
  for (const b of bins) k = Math.max(k, b.size);
  const index = new Int32Array(bins.length * k);
  const weight = new Float32Array(bins.length * k);
  bins.forEach((cells, b) => {
    let j = b * k;
    for (const [key, wt] of cells) {
      index[j] = key;
      weight[j++] = wt;
    }
  });
  return { numBins: bins.length, k, index, weight };
}
