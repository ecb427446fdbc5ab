/**
 * The detection ops on the ONNX engine (opset 17, dynamic shapes): TopK, NonZero,
 * NonMaxSuppression, RoiAlign, Gather, ScatterElements. Index vectors are int64 values.
 *
 * - Per-group NMS is one NonMaxSuppression whose "classes" are the groups: the scores of a box
 *   are masked to −∞ outside its own group, and the score threshold (lowest float) drops them.
 * - Multi-level RoIAlign: RoIs are assigned to levels, each level's RoIs pooled by one RoiAlign
 *   (half_pixel = aligned, output_half_pixel = legacy), and the results put back in RoI order
 *   through the inverse permutation (ScatterElements) and a Gather.
 * - Per-image work on a batch is a Loop over the batch; its body is a subgraph built by a second
 *   instance of these ops, whose outputs are padded to fixed row counts and become scan outputs.
 */
import type { AnchorGridSpec, DetOps, PerImageBody, PerImageOptions, PerImageResult, RoiAlignSpec } from '../det-ops.js';
import { DataType, type Sym } from './graph.js';
import { OrtOps } from './ops.js';

/** ONNX TensorProto data types used in Cast. */
const FLOAT = 1;
const INT64 = 7;
const LOWEST_FLOAT = -3.4028234663852886e38;

export class OrtDetOps extends OrtOps implements DetOps<Sym> {
  private s(id: string, rank: number): Sym {
    return { id, rank };
  }

  /** The graph value of `x` (a deferred LayerNorm affine applied). */
  private v(x: Sym): string {
    return this.materialize(x).id;
  }

  /** Dimension `i` of x's shape as an int64 [1] value. */
  private dim(x: Sym, i: number): string {
    const g = this.g;
    return g.op('Slice', [g.op('Shape', [this.v(x)]), g.constInt64([i]), g.constInt64([i + 1])]);
  }

  mapToRows(x: Sym, k: number): Sym {
    const t = this.g.op('Transpose', [this.v(x)], { perm: [0, 2, 3, 1] });
    return this.s(this.g.op('Reshape', [t, this.g.constInt64([-1, k])]), 2);
  }

  spatialSize(x: Sym): Sym {
    const g = this.g;
    return this.s(g.op('Cast', [g.op('Slice', [g.op('Shape', [this.v(x)]), g.constInt64([2]), g.constInt64([4])])], { to: FLOAT }), 1);
  }

  flatten(x: Sym): Sym {
    return this.s(this.g.op('Flatten', [this.v(x)], { axis: 1 }), 2);
  }

  reshape(x: Sym, shape: readonly number[]): Sym {
    return this.s(this.g.op('Reshape', [this.v(x), this.g.constInt64([...shape])]), shape.length);
  }

  columns(x: Sym, start: number, end: number): Sym {
    const g = this.g;
    return this.s(g.op('Slice', [this.v(x), g.constInt64([start]), g.constInt64([end]), g.constInt64([1])]), 2);
  }

  column(x: Sym, i: number): Sym {
    const g = this.g;
    return this.s(g.op('Squeeze', [this.columns(x, i, i + 1).id, g.constInt64([1])]), 1);
  }

  stackColumns(xs: readonly Sym[]): Sym {
    const g = this.g;
    const axes = g.constInt64([1]);
    return this.s(g.op('Concat', xs.map((x) => g.op('Unsqueeze', [this.v(x), axes])), { axis: 1 }), 2);
  }

  columnMax(x: Sym): Sym {
    return this.s(this.g.op('ReduceMax', [this.v(x)], { axes: [0], keepdims: 0 }), 1);
  }

  pasteMasks(masks: Sym, boxes: Sym, size: Sym, thr: number, image: Sym = size): Sym {
    const g = this.g;
    const mask = g.op('Squeeze', [this.v(masks), g.constInt64([1])]); // [D, m, m]
    const m = g.op('Cast', [g.op('Squeeze', [this.dim(masks, 3), g.constInt64([0])])], { to: FLOAT });
    const taps = g.op('Reshape', [g.op('Range', [g.constFloat([0], []), m, g.constFloat([1], [])]), g.constInt64([1, 1, -1])]); // [1, 1, m]
    const scalar = (t: Sym, i: number) => g.op('Squeeze', [this.element(t, i).id, g.constInt64([0])]);
    const col = (i: number) => g.op('Unsqueeze', [this.column(boxes, i).id, g.constInt64([1])]); // [D, 1]
    // Bilinear weights of one axis [D, P, m]: the tent max(0, 1 − |src − i|) is grid_sample's two
    // taps with zeros outside; rows outside the skip-empty region are zero.
    const axis = (n: string, limit: string, lo: string, hi: string): string => {
      const pos = g.op('Unsqueeze', [g.op('Range', [g.constFloat([0], []), n, g.constFloat([1], [])]), g.constInt64([0])]); // [1, P]
      let v = g.op('Div', [g.op('Sub', [g.op('Add', [pos, g.constFloat([0.5], [])]), lo]), g.op('Sub', [hi, lo])]);
      v = g.op('Sub', [g.op('Mul', [v, g.constFloat([2], [])]), g.constFloat([1], [])]);
      v = g.op('Where', [g.op('IsInf', [v]), g.constFloat([0], []), v]); // a zero-width box: ±inf → 0, as mmdetection
      v = g.op('Div', [g.op('Sub', [g.op('Mul', [g.op('Add', [v, g.constFloat([1], [])]), m]), g.constFloat([1], [])]), g.constFloat([2], [])]);
      let w = g.op('Relu', [g.op('Sub', [g.constFloat([1], []), g.op('Abs', [g.op('Sub', [g.op('Unsqueeze', [v, g.constInt64([2])]), taps])])])]);
      w = g.op('Where', [g.op('IsNaN', [w]), g.constFloat([0], []), w]);
      const start = g.op('Max', [g.op('Sub', [g.op('Floor', [lo]), g.constFloat([1], [])]), g.constFloat([0], [])]);
      const end = g.op('Min', [g.op('Add', [g.op('Ceil', [hi]), g.constFloat([1], [])]), limit]);
      const inside = g.op('Cast', [g.op('And', [g.op('GreaterOrEqual', [pos, start]), g.op('Less', [pos, end])])], { to: FLOAT });
      return g.op('Mul', [w, g.op('Unsqueeze', [inside, g.constInt64([2])])]);
    };
    const wy = axis(scalar(size, 0), scalar(image, 0), col(1), col(3));
    const wx = axis(scalar(size, 1), scalar(image, 1), col(0), col(2));
    const probs = g.op('MatMul', [g.op('MatMul', [wy, mask]), g.op('Transpose', [wx], { perm: [0, 2, 1] })]); // [D, H, W]
    return this.s(g.op('Unsqueeze', [g.op('Cast', [g.op('GreaterOrEqual', [probs, g.constFloat([thr], [])])], { to: FLOAT }), g.constInt64([1])]), 4);
  }

  concatRows(xs: readonly Sym[]): Sym {
    return xs.length === 1 ? xs[0] : this.s(this.g.op('Concat', xs.map((x) => this.v(x)), { axis: 0 }), xs[0].rank);
  }

  repeatRows(x: Sym, n: number): Sym {
    const g = this.g;
    const k = g.op('Slice', [g.op('Shape', [this.v(x)]), g.constInt64([1]), g.constInt64([2])]);
    const tiled = g.op('Expand', [g.op('Unsqueeze', [this.v(x), g.constInt64([1])]), g.constInt64([1, n, 1])]);
    return this.s(g.op('Reshape', [tiled, g.op('Concat', [g.constInt64([-1]), k], { axis: 0 })]), 2);
  }

  element(x: Sym, i: number): Sym {
    const g = this.g;
    return this.s(g.op('Slice', [this.v(x), g.constInt64([i]), g.constInt64([i + 1]), g.constInt64([0])]), 1);
  }

  gather(x: Sym, indices: Sym): Sym {
    return this.s(this.g.op('Gather', [this.v(x), this.v(indices)], { axis: 0 }), x.rank);
  }

  selectChannel(x: Sym, index: Sym): Sym {
    const g = this.g;
    const idx = g.op('Reshape', [g.op('Cast', [this.v(index)], { to: INT64 }), g.constInt64([-1, 1, 1, 1])]);
    const shape = g.op('Concat', [this.dim(x, 0), g.constInt64([1]), this.dim(x, 2), this.dim(x, 3)], { axis: 0 });
    return this.s(g.op('GatherElements', [this.v(x), g.op('Expand', [idx, shape])], { axis: 1 }), 4);
  }

  columnIndex(x: Sym): Sym {
    const g = this.g;
    const c = g.op('Cast', [g.op('Squeeze', [this.dim(x, 1), g.constInt64([0])])], { to: FLOAT });
    const range = g.op('Range', [g.constFloat([0], []), c, g.constFloat([1], [])]);
    return this.s(g.op('Expand', [g.op('Unsqueeze', [range, g.constInt64([0])]), g.op('Shape', [this.v(x)])]), 2);
  }

  argmaxColumns(x: Sym): Sym {
    return this.s(this.g.op('Cast', [this.g.op('ArgMax', [this.v(x)], { axis: 1, keepdims: 0 })], { to: FLOAT }), 1);
  }

  pickGroups(x: Sym, index: Sym, k: number): Sym {
    const g = this.g;
    // [−1, G, k] with G = columns / k: a row count of 0 must not be the dimension the -1 infers from.
    const groups = g.op('Div', [this.dim(x, 1), g.constInt64([k])]);
    const grouped = g.op('Reshape', [this.v(x), g.op('Concat', [g.constInt64([-1]), groups, g.constInt64([k])], { axis: 0 })]);
    const idx = g.op('Reshape', [g.op('Cast', [this.v(index)], { to: INT64 }), g.constInt64([-1, 1, 1])]);
    const shape = g.op('Concat', [this.dim(x, 0), g.constInt64([1, k])], { axis: 0 });
    const picked = g.op('GatherElements', [grouped, g.op('Expand', [idx, shape])], { axis: 1 });
    return this.s(g.op('Reshape', [picked, g.constInt64([-1, k])]), 2);
  }

  divScalar(x: Sym, s: number): Sym {
    return this.s(this.g.op('Div', [this.v(x), this.g.constFloat([s], [])]), x.rank);
  }

  exp(x: Sym): Sym {
    return this.s(this.g.op('Exp', [this.v(x)]), x.rank);
  }

  log(x: Sym): Sym {
    return this.s(this.g.op('Log', [this.v(x)]), x.rank);
  }

  floor(x: Sym): Sym {
    return this.s(this.g.op('Floor', [this.v(x)]), x.rank);
  }

  clamp(x: Sym, lo?: number, hi?: number): Sym {
    let y = this.v(x);
    if (lo !== undefined) y = this.g.op('Max', [y, this.g.constFloat([lo], [])]);
    if (hi !== undefined) y = this.g.op('Min', [y, this.g.constFloat([hi], [])]);
    return this.s(y, x.rank);
  }

  minimum(a: Sym, b: Sym): Sym {
    return this.s(this.g.op('Min', [this.v(a), this.v(b)]), Math.max(a.rank, b.rank));
  }

  maximum(a: Sym, b: Sym): Sym {
    return this.s(this.g.op('Max', [this.v(a), this.v(b)]), Math.max(a.rank, b.rank));
  }

  greaterScalar(x: Sym, s: number, orEqual = false): Sym {
    return this.s(this.g.op(orEqual ? 'GreaterOrEqual' : 'Greater', [this.v(x), this.g.constFloat([s], [])]), x.rank);
  }

  and(a: Sym, b: Sym): Sym {
    return this.s(this.g.op('And', [this.v(a), this.v(b)]), Math.max(a.rank, b.rank));
  }

  nonzero(mask: Sym): Sym {
    return this.s(this.g.op('Reshape', [this.g.op('NonZero', [this.v(mask)]), this.g.constInt64([-1])]), 1);
  }

  topK(x: Sym, k: number): { values: Sym; indices: Sym } {
    const g = this.g;
    const kk = g.op('Min', [g.op('Shape', [this.v(x)]), g.constInt64([k])]);
    const [values, indices] = g.node('TopK', [this.v(x), kk], { axis: 0, largest: 1, sorted: 1 }, 2);
    return { values: this.s(values, 1), indices: this.s(indices, 1) };
  }

  batchedNms(boxes: Sym, scores: Sym, groups: Sym, numGroups: number, iouThr: number, maxOut: number): Sym {
    const g = this.g;
    const ids = g.constFloat(Array.from({ length: numGroups }, (_, i) => i), [numGroups, 1]);
    const inGroup = g.op('Equal', [g.op('Unsqueeze', [this.v(groups), g.constInt64([0])]), ids]);
    const masked = g.op('Where', [inGroup, g.op('Unsqueeze', [this.v(scores), g.constInt64([0])]), g.constFloat([-Infinity], [])]);
    const selected = g.op('NonMaxSuppression', [
      g.op('Unsqueeze', [this.v(boxes), g.constInt64([0])]),
      g.op('Unsqueeze', [masked, g.constInt64([0])]),
      g.constInt64([maxOut]),
      g.constFloat([iouThr]),
      g.constFloat([LOWEST_FLOAT]),
    ]);
    const kept = this.s(g.op('Reshape', [g.op('Gather', [selected, g.constInt64([2])], { axis: 1 }), g.constInt64([-1])]), 1);
    const { indices } = this.topK(this.gather(scores, kept), maxOut);
    return this.gather(kept, indices);
  }

  gridAnchors(feature: Sym, image: Sym, spec: AnchorGridSpec): Sym {
    const g = this.g;
    const a = spec.base.length;
    const h = this.dim(feature, 2);
    const w = this.dim(feature, 3);
    let sy: string;
    let sx: string;
    if (spec.strideMode === 'nominal') {
      sy = sx = g.constInt64([spec.stride]);
    } else {
      sy = g.op('Div', [this.dim(image, 2), h]);
      sx = g.op('Div', [this.dim(image, 3), w]);
    }
    const zero = g.constInt64([0], []);
    const one = g.constInt64([1], []);
    const scalar = (v: string) => g.op('Squeeze', [v, g.constInt64([0])]);
    // Shifts as exact integers, then one float add of the base anchors (as both libraries).
    const ys = g.op('Cast', [g.op('Mul', [g.op('Range', [zero, scalar(h), one]), sy])], { to: FLOAT });
    const xs = g.op('Cast', [g.op('Mul', [g.op('Range', [zero, scalar(w), one]), sx])], { to: FLOAT });
    const yy = g.op('Mul', [g.op('Reshape', [ys, g.constInt64([-1, 1, 1, 1])]), g.constFloat([0, 1, 0, 1], [1, 1, 1, 4])]);
    const xx = g.op('Mul', [g.op('Reshape', [xs, g.constInt64([1, -1, 1, 1])]), g.constFloat([1, 0, 1, 0], [1, 1, 1, 4])]);
    const base = g.constFloat(spec.base.flatMap((b) => [...b]), [1, 1, a, 4]);
    const grid = g.op('Add', [g.op('Add', [yy, xx]), base]);
    return this.s(g.op('Reshape', [grid, g.constInt64([-1, 4])]), 2);
  }

  roiAlign(features: readonly Sym[], rois: Sym, levels: Sym, spec: RoiAlignSpec): Sym {
    const g = this.g;
    const parts: string[] = [];
    const members: string[] = [];
    features.forEach((feat, l) => {
      const idx = this.nonzero(this.s(g.op('Equal', [this.v(levels), g.constFloat([l], [])]), 1));
      const batch = g.op('Mul', [this.v(idx), g.constInt64([0], [])]);
      parts.push(g.op('RoiAlign', [this.v(feat), this.gather(rois, idx).id, batch], {
        mode: 'avg',
        output_height: spec.output,
        output_width: spec.output,
        sampling_ratio: spec.samplingRatio,
        spatial_scale: { float: spec.scales[l] },
        coordinate_transformation_mode: spec.aligned ? 'half_pixel' : 'output_half_pixel',
      }));
      members.push(this.v(idx));
    });
    // cat[k] belongs to RoI perm[k]; inverse[perm[k]] = k puts it back.
    const cat = g.op('Concat', parts, { axis: 0 });
    const perm = g.op('Concat', members, { axis: 0 });
    const n = g.op('Squeeze', [g.op('Shape', [perm]), g.constInt64([0])]);
    const ks = g.op('Range', [g.constInt64([0], []), n, g.constInt64([1], [])]);
    const inverse = g.op('ScatterElements', [perm, perm, ks], { axis: 0 });
    return this.s(g.op('Gather', [cat, inverse], { axis: 0 }), 4);
  }

  perImage(maps: readonly Sym[], rows: readonly Sym[], body: PerImageBody<Sym>, padRows: Readonly<Record<string, number>>, opts: PerImageOptions = {}): PerImageResult<Sym> {
    const g = this.g;
    const first = maps[0] ?? rows[0];
    if (first === undefined) throw new Error('perImage: no batched input');
    const sub = g.subgraph();
    const iter = sub.bodyInput('iter', DataType.INT64, []);
    const condIn = sub.bodyInput('cond', DataType.BOOL, []);
    const ops = new OrtDetOps(sub, this.weights, this.opts);
    const at = sub.op('Unsqueeze', [iter, g.constInt64([0])]);
    const mapSlices = maps.map((m) => ({ id: sub.op('Gather', [this.v(m), at], { axis: 0 }), rank: 4, dims: m.dims ? [1, ...m.dims.slice(1)] : undefined }));
    const rowSlices = rows.map((r) => this.s(sub.op('Gather', [this.v(r), iter], { axis: 0 }), r.rank - 1));
    const out = body(ops, mapSlices, rowSlices);
    const names = Object.keys(padRows);
    for (const name of Object.keys(out)) if (!(name in padRows)) throw new Error(`perImage: output '${name}' has no row count`);
    sub.bodyOutput(sub.op('Identity', [condIn]), DataType.BOOL, 0);
    const ranks: number[] = [];
    for (const name of names) {
      const v = out[name];
      if (v === undefined) throw new Error(`perImage: the body did not produce '${name}'`);
      const k = padRows[name];
      const uint8 = opts.uint8?.includes(name) ?? false;
      const value = uint8 ? sub.op('Cast', [ops.materialize(v).id], { to: DataType.UINT8 }) : ops.materialize(v).id;
      const cut = sub.op('Slice', [value, g.constInt64([0]), g.constInt64([k]), g.constInt64([0])]);
      const n = sub.op('Slice', [sub.op('Shape', [cut]), g.constInt64([0]), g.constInt64([1])]);
      const pads = sub.op('Concat', [g.constInt64(new Array<number>(v.rank).fill(0)), sub.op('Sub', [g.constInt64([k]), n]), g.constInt64(new Array<number>(v.rank - 1).fill(0))], { axis: 0 });
      sub.bodyOutput(sub.op('Pad', [cut, pads]), uint8 ? DataType.UINT8 : DataType.FLOAT, v.rank);
      sub.bodyOutput(sub.op('Cast', [n], { to: FLOAT }), DataType.FLOAT, 1);
      ranks.push(v.rank);
    }
    const trips = g.op('Squeeze', [g.op('Slice', [g.op('Shape', [this.v(first)]), g.constInt64([0]), g.constInt64([1])]), g.constInt64([0])]);
    const cond = g.op('Cast', [g.constInt64([1], [])], { to: DataType.BOOL });
    const scans = g.node('Loop', [trips, cond], { body: sub.asAttr('per_image') }, 2 * names.length);
    const outputs: Record<string, Sym> = {};
    const counts: Record<string, Sym> = {};
    names.forEach((name, i) => {
      outputs[name] = this.s(scans[2 * i], ranks[i] + 1);
      counts[name] = this.s(g.op('Reshape', [scans[2 * i + 1], g.constInt64([-1])]), 1);
    });
    return { outputs, counts };
  }
}
