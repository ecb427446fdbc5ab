/**
 * The ONNX form of `resizeConcatConv` (conv of the concatenation of maps bilinearly resized to the
 * first one's size), without resizing the maps. For a map x of size h × w resized to H × W by U
 * (bilinear, align_corners=False; U = U_h ⊗ U_w is separable) and its share K of a k×k kernel
 * ("same" padding, stride 1):
 *
 *   conv(U x)[o, Y, X] = Σ_{dy,dx} Σ_c K[o,c,dy,dx] (U x)[c, Y+dy−p, X+dx−p]
 *                      = Σ_dy Σ_y' A_dy[Y, y'] Σ_dx Σ_j B_dx[j, X] z_dx[(o,dy), y', j]
 *
 * with z_dx = K[:, :, :, dx] · x (a 1×1 conv at the low resolution, written as a MatMul), B_dx the
 * width interpolation matrix shifted by dx − p and A_dy the height one shifted by dy − p (rows
 * outside the image are zero: the conv's zero padding). So each resized map costs a 1×1 conv to
 * k²·O channels at its own resolution and two GEMMs with interpolation matrices built in the graph
 * from the runtime sizes (any H and W), instead of a k×k conv at the high resolution: for UPerNet's
 * fpn_bottleneck at stride 8, 16, 32 that is 4–64× fewer multiply-adds.
 */
import type { HostTensor } from '../host-tensor.js';
import type { GraphBuilder } from './graph.js';

/** A [len] float vector 0, 1, …, len − 1 from an int64 [1] length. */
function range(g: GraphBuilder, lenF: string): string {
  return g.op('Range', [g.constFloat([0], []), g.op('Squeeze', [lenF]), g.constFloat([1], [])]);
}

/**
 * PyTorch's bilinear (align_corners=False) interpolation matrix from `inLen` to `outLen` samples
 * (int64 [1] values), for output positions shifted by `shift` (positions outside [0, outLen) get
 * zero rows). `inOut`: laid out [in, out] (else [out, in]).
 */
export function interpolationMatrix(g: GraphBuilder, inLen: string, outLen: string, shift: number, inOut: boolean): string {
  const inF = g.op('Cast', [inLen], { to: 1 });
  const outF = g.op('Cast', [outLen], { to: 1 });
  const x = g.op('Add', [range(g, outF), g.constFloat([shift], [])]);
  const scale = g.op('Div', [inF, outF]);
  // src = max((x + 0.5) · in/out − 0.5, 0); i0 = floor(src); i1 = min(i0 + 1, in − 1); λ = src − i0.
  const src = g.op('Max', [g.op('Sub', [g.op('Mul', [g.op('Add', [x, g.constFloat([0.5], [])]), scale]), g.constFloat([0.5], [])]), g.constFloat([0], [])]);
  const i0 = g.op('Floor', [src]);
  const lambda = g.op('Sub', [src, i0]);
  const i1 = g.op('Min', [g.op('Add', [i0, g.constFloat([1], [])]), g.op('Sub', [inF, g.constFloat([1], [])])]);
  const inside = g.op('Cast', [g.op('And', [g.op('GreaterOrEqual', [x, g.constFloat([0], [])]), g.op('Less', [x, outF])])], { to: 1 });
  const w1 = g.op('Mul', [lambda, inside]);
  const w0 = g.op('Sub', [inside, w1]);
  const j = range(g, inF);
  // Output positions along one axis, source positions along the other.
  const outAxis = inOut ? 0 : 1;
  const srcAxis = inOut ? 1 : 0;
  const o = (v: string) => g.op('Unsqueeze', [v, g.constInt64([outAxis])]);
  const s = g.op('Unsqueeze', [j, g.constInt64([srcAxis])]);
  const hit = (idx: string) => g.op('Cast', [g.op('Equal', [s, o(idx)])], { to: 1 });
  return g.op('Add', [g.op('Mul', [hit(i0), o(w0)]), g.op('Mul', [hit(i1), o(w1)])]);
}

/** Element `i` of a shape as an int64 [1] value. */
function dim(g: GraphBuilder, shape: string, i: number): string {
  return g.op('Slice', [shape, g.constInt64([i]), g.constInt64([i + 1])]);
}

export interface ResizeConcatConvArgs {
  /** Graph values of the maps (NCHW), the first at the output resolution. */
  xs: readonly string[];
  channels: readonly number[];
  /** The full kernel [O, Σ channels, k, k] and its name (initializer names derive from it). */
  weight: HostTensor;
  weightName: string;
  /** Bias initializer, or null. */
  bias: string | null;
}

/** Builds the decomposed graph; the kernel must be square and odd, with "same" padding and stride 1. */
export function resizeConcatConvGraph(g: GraphBuilder, a: ResizeConcatConvArgs): string {
  const [O, I, k] = a.weight.shape;
  const p = (k - 1) / 2;
  const W = a.weight.data;
  const offsets = a.channels.map((_, i) => a.channels.slice(0, i).reduce((s, c) => s + c, 0));
  // Map 0 is already at the output resolution: an ordinary conv with its share of the kernel.
  const c0 = a.channels[0];
  const k0 = new Float32Array(O * c0 * k * k);
  for (let o = 0; o < O; o++) k0.set(W.subarray((o * I) * k * k, (o * I + c0) * k * k), o * c0 * k * k);
  const convIns = [a.xs[0], g.floatInit(`${a.weightName}::rcc0`, [O, c0, k, k], k0)];
  if (a.bias) convIns.push(a.bias);
  let y = g.op('Conv', convIns, { kernel_shape: [k, k], pads: [p, p, p, p] });
  const shape0 = g.op('Shape', [a.xs[0]]);
  const H = dim(g, shape0, 2);
  const Wd = dim(g, shape0, 3);
  const minus1 = g.constInt64([-1]);
  for (let i = 1; i < a.xs.length; i++) {
    const c = a.channels[i];
    const off = offsets[i];
    const shape = g.op('Shape', [a.xs[i]]);
    const n = dim(g, shape, 0);
    const h = dim(g, shape, 2);
    const w = dim(g, shape, 3);
    const x = g.op('Reshape', [a.xs[i], g.op('Concat', [n, g.constInt64([c]), minus1], { axis: 0 })]);
    // Width stage: t[(o,dy), y', X] = Σ_dx z_dx[(o,dy), y', :] · B_dx, accumulated through Gemm.
    let t = '';
    for (let dx = 0; dx < k; dx++) {
      const kz = new Float32Array(O * k * c);
      for (let o = 0; o < O; o++) {
        for (let dy = 0; dy < k; dy++) {
          const row = (o * k + dy) * c;
          for (let ci = 0; ci < c; ci++) kz[row + ci] = W[((o * I + off + ci) * k + dy) * k + dx];
        }
      }
      const z = g.op('MatMul', [g.floatInit(`${a.weightName}::rcc${i}.${dx}`, [O * k, c], kz), x]);
      const rows = g.op('Reshape', [z, g.op('Concat', [minus1, w], { axis: 0 })]);
      const B = interpolationMatrix(g, w, Wd, dx - p, true);
      t = t ? g.op('Gemm', [rows, B, t]) : g.op('MatMul', [rows, B]);
    }
    // Height stage: [N, O, k·h, W] rows (dy, y') against A = [A_0 | … | A_{k−1}] ([H, k·h]).
    const kh = g.op('Mul', [h, g.constInt64([k])]);
    const t4 = g.op('Reshape', [t, g.op('Concat', [n, g.constInt64([O]), kh, Wd], { axis: 0 })]);
    const A = g.op('Concat', Array.from({ length: k }, (_, dy) => interpolationMatrix(g, h, H, dy - p, false)), { axis: 1 });
    y = g.op('Add', [y, g.op('MatMul', [A, t4])]);
  }
  return y;
}
