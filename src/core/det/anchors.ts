/**
 * Anchor generation as mmdetection's `AnchorGenerator` (base size = stride, scales × ratios,
 * centre offset, not rounded) and torchvision's `AnchorGenerator` (sizes, ratios, rounded half to
 * even): base anchors per level, and the grid of a level on the host (float32 arithmetic).
 */
import type { AnchorGridSpec, AnchorStrideMode } from '../det-ops.js';

const f = Math.fround;

/** Anchor settings of one model (all levels). */
export interface AnchorOptions {
  /** Level strides (FPN outputs), e.g. [4, 8, 16, 32, 64]. */
  strides: readonly number[];
  /** Aspect ratios h / w. */
  ratios: readonly number[];
  /** Octave scales: anchor side = stride × scale (mmdetection `scales`, torchvision `sizes / stride`). */
  scales: readonly number[];
  /** Round base anchors to integers, half to even (torchvision). */
  round: boolean;
  /** Anchor centre offset in units of the stride (mmdetection `center_offset`, 0 in both). */
  centerOffset: number;
  strideMode: AnchorStrideMode;
}

/** Round half to even, as `torch.round`. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Base anchors of one level, ratio-major then scale (both libraries' order), in float32:
 * h_ratio = √ratio, w_ratio = 1 / h_ratio, w = base · w_ratio · scale.
 */
export function baseAnchors(stride: number, o: AnchorOptions): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  const cx = f(o.centerOffset * stride);
  for (const ratio of o.ratios) {
    const hr = f(Math.sqrt(f(ratio)));
    const wr = f(1 / hr);
    for (const scale of o.scales) {
      let box: [number, number, number, number];
      if (o.round) {
        // torchvision: sizes = stride·scale; ws = w_ratio·size; anchors = [−ws, −hs, ws, hs] / 2, rounded.
        const size = f(stride * scale);
        const ws = f(wr * size);
        const hs = f(hr * size);
        box = [-ws / 2, -hs / 2, ws / 2, hs / 2].map((v) => roundHalfEven(f(v))) as [number, number, number, number];
      } else {
        // mmdetection: ws = base · w_ratio · scale; x_c ∓ 0.5·ws.
        const ws = f(f(stride * wr) * scale);
        const hs = f(f(stride * hr) * scale);
        box = [f(cx - f(0.5 * ws)), f(cx - f(0.5 * hs)), f(cx + f(0.5 * ws)), f(cx + f(0.5 * hs))];
      }
      out.push(box);
    }
  }
  return out;
}

/** Grid specs of every level. */
export function anchorGridSpecs(o: AnchorOptions): AnchorGridSpec[] {
  return o.strides.map((stride) => ({ base: baseAnchors(stride, o), stride, strideMode: o.strideMode }));
}

/** Strides (y, x) of a level's grid for a feature of h × w from an input of inH × inW. */
export function gridStrides(spec: AnchorGridSpec, h: number, w: number, inH: number, inW: number): [number, number] {
  if (spec.strideMode === 'nominal') return [spec.stride, spec.stride];
  return [Math.floor(inH / h), Math.floor(inW / w)];
}

/** All anchors of an h × w grid as [h·w·A·4] in (h, w, a) order. */
export function gridAnchorsHost(spec: AnchorGridSpec, h: number, w: number, inH: number, inW: number): Float32Array {
  const [sy, sx] = gridStrides(spec, h, w, inH, inW);
  const out = new Float32Array(h * w * spec.base.length * 4);
  let k = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (const b of spec.base) {
        out[k++] = x * sx + b[0];
        out[k++] = y * sy + b[1];
        out[k++] = x * sx + b[2];
        out[k++] = y * sy + b[3];
      }
    }
  }
  return out;
}
