/**
 * Semantic-segmentation metrics with mmsegmentation's semantics (`intersect_and_union`,
 * `IoUMetric.total_area_to_metrics`, `eval_metrics`):
 *
 * - the ground truth is optionally remapped (`labelMap`), then `reduceZeroLabel` turns 0 into
 *   the ignore value 255 and shifts the other labels down by one (255 stays 255);
 * - pixels whose ground truth equals `ignoreIndex` are dropped;
 * - per class c the areas are counted like `torch.histc(bins=C, min=0, max=C-1)`, so labels
 *   outside 0..C-1 (in prediction or ground truth) fall in no bin;
 * - IoU = intersect / union, Acc = intersect / area_label, aAcc = Σ intersect / Σ area_label;
 *   0/0 gives NaN and the means skip NaN (`np.nanmean`). A class absent from both prediction
 *   and ground truth is NaN for both; a class only predicted has IoU 0 and Acc NaN.
 */
import { UserError } from '../core/errors.js';

/** Integer label values, one per pixel, row-major. */
export type LabelArray =
  | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array
  | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | readonly number[];

/** A label map: `height × width` class indices in row-major order. */
export interface LabelMap {
  data: LabelArray;
  width: number;
  height: number;
}

/** Options of {@link MIoUAccumulator}. */
export interface MIoUOptions {
  /** Ground-truth value to skip (mmseg default 255). */
  ignoreIndex?: number;
  /** ADE20K-style: ground truth 0 → 255 (ignored), other labels − 1. Default false. */
  reduceZeroLabel?: boolean;
  /** Ground-truth remapping applied before `reduceZeroLabel` (mmseg's `label_map`). */
  labelMap?: ReadonlyMap<number, number>;
  /** Class names for the per-class results and table (length = numClasses). */
  classNames?: readonly string[];
}

/** Metrics of one class, as fractions in [0, 1] or NaN. */
export interface ClassMetrics {
  name?: string;
  iou: number;
  acc: number;
}

/** Result of {@link MIoUAccumulator.compute}, as fractions in [0, 1] (NaN where undefined). */
export interface MIoUResult {
  aAcc: number;
  mIoU: number;
  mAcc: number;
  perClass: ClassMetrics[];
}

/** Mean of the non-NaN values (`np.nanmean`); NaN when all are NaN. */
export function nanMean(values: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/**
 * Accumulates intersection / union / prediction / label areas per class over many label
 * maps, then computes aAcc, mIoU, mAcc and per-class IoU/Acc like mmsegmentation.
 */
export class MIoUAccumulator {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly reduceZeroLabel: boolean;
  readonly classNames: readonly string[] | undefined;
  private readonly labelMap: ReadonlyMap<number, number> | undefined;
  /** Σ over images of |pred = gt = c| per class (after ignore). */
  readonly areaIntersect: Float64Array;
  /** Σ of area_pred + area_label − area_intersect per class. */
  readonly areaUnion: Float64Array;
  /** Σ of |pred = c| per class over non-ignored pixels. */
  readonly areaPred: Float64Array;
  /** Σ of |gt = c| per class over non-ignored pixels. */
  readonly areaLabel: Float64Array;
  /** Number of label-map pairs added. */
  count = 0;

  constructor(numClasses: number, options: MIoUOptions = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new UserError(`mIoU: numClasses must be a positive integer, got ${numClasses}`);
    }
    if (options.classNames && options.classNames.length !== numClasses) {
      throw new UserError(
        `mIoU: ${options.classNames.length} class names given for ${numClasses} classes`,
      );
    }
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? 255;
    this.reduceZeroLabel = options.reduceZeroLabel ?? false;
    this.labelMap = options.labelMap && options.labelMap.size > 0 ? options.labelMap : undefined;
    this.classNames = options.classNames;
    this.areaIntersect = new Float64Array(numClasses);
    this.areaUnion = new Float64Array(numClasses);
    this.areaPred = new Float64Array(numClasses);
    this.areaLabel = new Float64Array(numClasses);
  }

  /**
   * Adds one prediction / ground-truth pair. Sizes must agree; `file` names the ground truth
   * in the error message.
   */
  add(pred: LabelMap, gt: LabelMap, file?: string): void {
    const where = file ? `${file}: ` : '';
    if (pred.width !== gt.width || pred.height !== gt.height) {
      throw new UserError(
        `${where}label map is ${gt.width}x${gt.height} (WxH) but the prediction is ` +
          `${pred.width}x${pred.height}`,
      );
    }
    const n = gt.width * gt.height;
    if (gt.data.length !== n) {
      throw new UserError(`${where}label map has ${gt.data.length} values, expected ${gt.width}x${gt.height}`);
    }
    if (pred.data.length !== n) {
      throw new UserError(`${where}prediction has ${pred.data.length} values, expected ${pred.width}x${pred.height}`);
    }
    const C = this.numClasses;
    const ignore = this.ignoreIndex;
    const reduce = this.reduceZeroLabel;
    const map = this.labelMap;
    const inter = this.areaIntersect;
    const ap = this.areaPred;
    const al = this.areaLabel;
    const ip = new Float64Array(C);
    const il = new Float64Array(C);
    const ii = new Float64Array(C);
    const pd = pred.data;
    const gd = gt.data;
    for (let i = 0; i < n; i++) {
      let l = gd[i];
      if (map) {
        const m = map.get(l);
        if (m !== undefined) l = m;
      }
      if (reduce) {
        // mmseg: label[label == 0] = 255; label -= 1; label[label == 254] = 255
        l = l === 0 ? 255 : l - 1;
        if (l === 254) l = 255;
      }
      if (l === ignore) continue;
      const p = pd[i];
      if (p >= 0 && p < C) {
        ip[p]++;
        if (p === l) ii[p]++;
      }
      if (l >= 0 && l < C) il[l]++;
    }
    for (let c = 0; c < C; c++) {
      inter[c] += ii[c];
      ap[c] += ip[c];
      al[c] += il[c];
      this.areaUnion[c] += ip[c] + il[c] - ii[c];
    }
    this.count++;
  }

  /** Clears the accumulated areas. */
  reset(): void {
    this.areaIntersect.fill(0);
    this.areaUnion.fill(0);
    this.areaPred.fill(0);
    this.areaLabel.fill(0);
    this.count = 0;
  }

  /** aAcc, mIoU, mAcc and per-class IoU / Acc (fractions; NaN where 0/0). */
  compute(): MIoUResult {
    let si = 0;
    let sl = 0;
    const perClass: ClassMetrics[] = [];
    for (let c = 0; c < this.numClasses; c++) {
      const i = this.areaIntersect[c];
      si += i;
      sl += this.areaLabel[c];
      const m: ClassMetrics = { iou: i / this.areaUnion[c], acc: i / this.areaLabel[c] };
      if (this.classNames) m.name = this.classNames[c];
      perClass.push(m);
    }
    return {
      aAcc: si / sl,
      mIoU: nanMean(perClass.map((m) => m.iou)),
      mAcc: nanMean(perClass.map((m) => m.acc)),
      perClass,
    };
  }
}
