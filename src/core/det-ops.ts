/**
 * Data-dependent ops for detection heads, on top of the layout-opaque {@link Ops}. Two kinds of
 * tensors appear besides feature maps:
 *
 * - **tables**: rank-1 `[R]` and rank-2 `[R, k]` tensors (boxes, scores, deltas, labels). Their
 *   layout is the same on every engine (row-major, rows first), so model code may slice, reshape
 *   and gather them freely. Labels and levels are float tensors holding integers.
 * - **index vectors**: the integer results of {@link DetOps.topK}, {@link DetOps.nonzero} and
 *   {@link DetOps.batchedNms}; they only feed {@link DetOps.gather}.
 *
 * Batch size is 1 throughout, except around {@link DetOps.perImage}, which runs the
 * data-dependent part of a detector once per image of a batch.
 */
import type { Ops } from './ops.js';

/** How the stride of an anchor grid is found. */
export type AnchorStrideMode =
  /** The level's nominal stride (mmdetection). */
  | 'nominal'
  /** Padded input size integer-divided by the feature size, per axis (torchvision). */
  | 'input_over_feature';

/** An anchor grid for one level: base anchors centred on the origin, offset by the grid. */
export interface AnchorGridSpec {
  /** Base anchors [A][x1, y1, x2, y2] around (0, 0). */
  base: ReadonlyArray<readonly [number, number, number, number]>;
  stride: number;
  strideMode: AnchorStrideMode;
}

/** Multi-level RoIAlign settings (PyTorch semantics: `torchvision.ops.roi_align`, mmcv RoIAlign). */
export interface RoiAlignSpec {
  /** Output side (7 for boxes, 14 for masks). */
  output: number;
  /** Spatial scale of each level (1 / stride). */
  scales: readonly number[];
  /** Samples per bin and axis; 0: adaptive, ceil(roi size / output). */
  samplingRatio: number;
  /** true: pixel model shifted by −0.5 (half_pixel); false: legacy (output_half_pixel, RoI side ≥ 1). */
  aligned: boolean;
}

/** One image's part of a batched detector: see {@link DetOps.perImage}. */
export type PerImageBody<T> = (ops: DetOps<T>, maps: T[], rows: T[]) => Record<string, T>;

/** Options of {@link DetOps.perImage}. */
export interface PerImageOptions {
  /** Outputs holding only 0 and 1 that an ONNX graph keeps as uint8 from the body on (a quarter of the memory); float elsewhere. */
  uint8?: readonly string[];
}

/** The stacked results of {@link DetOps.perImage}. */
export interface PerImageResult<T> {
  /** Each body output padded with zero rows (or cut) to its row count, stacked: [N, rows, …]. */
  outputs: Record<string, T>;
  /** Each output's valid row count per image as a float table [N]. */
  counts: Record<string, T>;
}

/** The detection op set. `T` is the engine's tensor handle. */
export interface DetOps<T> extends Ops<T> {
  /** Feature map [1, A·k, H, W] → table [H·W·A, k], rows in (h, w, a) order (PyTorch `permute(0, 2, 3, 1).reshape(-1, k)`). */
  mapToRows(x: T, k: number): T;
  /** Height and width of a feature map as a float table [2]. */
  spatialSize(x: T): T;
  /** Feature maps [R, C, h, w] → table [R, C·h·w] in PyTorch's (c, h, w) order. */
  flatten(x: T): T;
  /** Reshape of a table (−1 allowed once). */
  reshape(x: T, shape: readonly number[]): T;
  /** Columns [start, end) of a rank-2 table. */
  columns(x: T, start: number, end: number): T;
  /** Column `i` of a rank-2 table as a rank-1 table. */
  column(x: T, i: number): T;
  /** Rank-1 tables of equal length as the columns of a rank-2 table. */
  stackColumns(xs: readonly T[]): T;
  /** The largest value of each column of a rank-2 table [R, k] → [k]. */
  columnMax(x: T): T;
  /** Concatenation of tables along rows. */
  concatRows(xs: readonly T[]): T;
  /** Each row of a rank-2 table repeated `n` times in a row: [R, k] → [R·n, k]. */
  repeatRows(x: T, n: number): T;
  /** Element `i` of a rank-1 table as a rank-1 table of length 1 (broadcasts). */
  element(x: T, i: number): T;
  /** Rows of a table (or feature maps of a batch) at `indices`. */
  gather(x: T, indices: T): T;
  /** Feature maps [D, C, h, w]: channel `index[d]` (a float table [D] of integers) of each → [D, 1, h, w]. */
  selectChannel(x: T, index: T): T;
  /** A float table shaped like the rank-2 table `x` holding each element's column index. */
  columnIndex(x: T): T;
  /** Column index of each row's largest element of a rank-2 table (the first on ties), as a float table [R]. */
  argmaxColumns(x: T): T;
  /**
   * Groups of `k` columns: row r of `x` [R, G·k] → its columns index[r]·k … index[r]·k + k − 1
   * (`index`: float table [R] of integers in 0..G−1) → [R, k]. Picks a class's deltas per RoI.
   */
  pickGroups(x: T, index: T, k: number): T;

  /** Division by a scalar (exact IEEE division, not multiplication by the reciprocal). */
  divScalar(x: T, s: number): T;
  exp(x: T): T;
  log(x: T): T;
  floor(x: T): T;
  /** Clamp to [lo, hi]; either bound may be omitted. */
  clamp(x: T, lo?: number, hi?: number): T;
  minimum(a: T, b: T): T;
  maximum(a: T, b: T): T;
  /** 1 where x > s (or x ≥ s with `orEqual`), else 0, as an opaque mask. */
  greaterScalar(x: T, s: number, orEqual?: boolean): T;
  /** Logical and of two masks. */
  and(a: T, b: T): T;
  /** Indices of the non-zero elements of a rank-1 mask, ascending. */
  nonzero(mask: T): T;

  /** The largest `k` values of a rank-1 table (k clipped to its length), descending, with their indices. */
  topK(x: T, k: number): { values: T; indices: T };
  /**
   * Per-group NMS (torchvision `batched_nms`, vanilla per-class form): boxes [N, 4] (x1, y1, x2,
   * y2), scores [N] ≥ 0, groups [N] (integers in 0..numGroups−1). A box is suppressed by a
   * higher-scoring box of its group when their IoU > `iouThr`. Returns the indices kept, by score
   * descending, at most `maxOut`.
   */
  batchedNms(boxes: T, scores: T, groups: T, numGroups: number, iouThr: number, maxOut: number): T;
  /** Anchors of a level's grid as a table [H·W·A, 4] in (h, w, a) order; `image` is the network input. */
  gridAnchors(feature: T, image: T, spec: AnchorGridSpec): T;
  /**
   * Multi-level RoIAlign: RoI r [x1, y1, x2, y2] (input-image coordinates) is pooled from
   * `features[levels[r]]` (levels: float table of integers) → feature maps [R, C, o, o], in RoI order.
   */
  roiAlign(features: readonly T[], rois: T, levels: T, spec: RoiAlignSpec): T;
  /**
   * mmdetection's mask paste (`_do_paste_mask` with skip_empty, grid_sample bilinear,
   * align_corners=False, zeros outside), thresholded: masks [D, 1, m, m] (probabilities) of boxes
   * [D, 4] into planes of `size` (a table [2]: height, width; integers) → table [D, 1, H, W] of 0
   * or 1 (1 where the probability ≥ `thr`). Pixels outside [floor(x1) − 1, ceil(x2) + 1) × … stay
   * 0, and so do those outside `image` (a table [2], the image's own size inside larger planes;
   * default `size`).
   */
  pasteMasks(masks: T, boxes: T, size: T, thr: number, image?: T): T;
  /**
   * Runs `body` once per image of a batch (an ONNX Loop; a loop on the host elsewhere): it gets
   * the image's slice [1, C, h, w] of each batched feature map in `maps` and its row [k] of each
   * table [N, k] in `rows`, and the ops to use on them. Each output is a table (rank ≥ 1) whose
   * rows are padded with zeros, or cut, to `rows[name]`; the outputs are stacked over the batch.
   * Values from outside the body may be used inside it through their shapes, and tables as they are.
   */
  perImage(maps: readonly T[], rows: readonly T[], body: PerImageBody<T>, padRows: Readonly<Record<string, number>>, opts?: PerImageOptions): PerImageResult<T>;
}
