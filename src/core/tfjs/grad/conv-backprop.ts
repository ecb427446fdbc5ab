/**
 * Backward passes of 2-D convolutions (dense and depthwise, NHWC, any stride, padding and
 * dilation) written with forward ops only: pad, slice, strided slice, reshape, transpose, reverse,
 * matMul, sum, conv2d and depthwiseConv2d. Every backend has these, so the convolutions can be
 * trained where the backprop kernels are missing (the wasm backend has no Conv2DBackpropFilter
 * and no depthwise backprop kernels) and where tfjs refuses dilated gradients.
 *
 * Notation: x [N, H, W, Ci], filter HWIO [kh, kw, Ci, Co] (depthwise: [kh, kw, C, 1]),
 * y = dy [N, Ho, Wo, Co], xp = x zero-padded; y[n,i,j,o] = Σ xp[n, i·s + a·d, j·s + b·d, c]·w[a,b,c,o].
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, effectiveKernel, unpadded } from './geometry.js';

type T4 = tf.Tensor4D;

/** x zero-padded by the geometry's pads. */
function padInput(x: T4, g: ConvGeometry): T4 {
  if (unpadded(g)) return x;
  const [t, b, l, r] = g.pads;
  return tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
}

/** True when the kernel tiles the input without overlap (stride = kernel, no dilation): patch embedding. */
function isPatchify(kh: number, kw: number, g: ConvGeometry): boolean {
  return g.strides[0] === kh && g.strides[1] === kw && g.dilations[0] === 1 && g.dilations[1] === 1;
}

/**
 * Patches of a patchify convolution as a matrix [N·Ho·Wo, kh·kw·C] (row = output pixel, columns
 * in (a, b, c) order, matching an HWIO filter flattened to [kh·kw·Ci, Co]).
 */
function patches(xp: T4, kh: number, kw: number, ho: number, wo: number): tf.Tensor2D {
  const [n, , , c] = xp.shape;
  const cropped = xp.shape[1] === ho * kh && xp.shape[2] === wo * kw ? xp : tf.slice(xp, [0, 0, 0, 0], [n, ho * kh, wo * kw, c]);
  if (kh === 1 && kw === 1) return tf.reshape(cropped, [n * ho * wo, c]);
  // [N·Ho, kh, Wo, kw·C] → [N·Ho, Wo, kh, kw·C]: rank 4 keeps every backend's transpose fast.
  const r = tf.reshape(cropped, [n * ho, kh, wo, kw * c]);
  return tf.reshape(tf.transpose(r, [0, 2, 1, 3]), [n * ho * wo, kh * kw * c]);
}

/** True when stride or dilation is 1 on both axes (what tfjs's forward convolutions accept). */
function oneOfStrideDilation(g: ConvGeometry): boolean {
  return (g.strides[0] === 1 && g.strides[1] === 1) || (g.dilations[0] === 1 && g.dilations[1] === 1);
}

/** The strided window of tap (a, b): xp[n, a·dh + i·sh, b·dw + j·sw, c] for all i < Ho, j < Wo. */
function tap(xp: T4, a: number, b: number, ho: number, wo: number, g: ConvGeometry): T4 {
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [n, , , c] = xp.shape;
  const top = a * dh;
  const left = b * dw;
  if (sh === 1 && sw === 1) return tf.slice(xp, [0, top, left, 0], [n, ho, wo, c]);
  return tf.stridedSlice(xp, [0, top, left, 0], [n, top + (ho - 1) * sh + 1, left + (wo - 1) * sw + 1, c], [1, sh, sw, 1]) as T4;
}

/** Gradient of a dense convolution with respect to its HWIO filter. */
export function conv2dFilterGrad(x: T4, dy: T4, filterShape: readonly number[], g: ConvGeometry): T4 {
  const [kh, kw, ci, co] = filterShape;
  const [, ho, wo] = dy.shape;
  const m = dy.shape[0] * ho * wo;
  return tf.tidy(() => {
    const xp = padInput(x, g);
    const dy2 = tf.reshape(dy, [m, co]);
    if (isPatchify(kh, kw, g)) {
      // One matMul: Σ over output pixels of patchᵀ · dy.
      return tf.reshape(tf.matMul(patches(xp, kh, kw, ho, wo), dy2, true, false), [kh, kw, ci, co]) as T4;
    }
    if (oneOfStrideDilation(g)) {
      return filterGradAsConv(xp, dy, kh, kw, g);
    }
    // Both stride and dilation above 1: one matMul per kernel tap over its strided window.
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        taps.push(tf.matMul(tf.reshape(tap(xp, a, b, ho, wo, g), [m, ci]), dy2, true, false));
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, ci, co]) as T4;
  });
}

/**
 * The filter gradient as one convolution: batch ↔ channels swapped, the input is xp as
 * [Ci, Hp, Wp, N], the "filter" is dy as [Ho, Wo, N, Co] dilated by the forward stride, and the
 * "stride" is the forward dilation; the output [Ci, ≥kh, ≥kw, Co] holds dW at its first kh × kw.
 */
function filterGradAsConv(xp: T4, dy: T4, kh: number, kw: number, g: ConvGeometry): T4 {
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as T4;
  const f = tf.transpose(dy, [1, 2, 0, 3]) as T4;
  let o = tf.conv2d(xt, f, [g.dilations[0], g.dilations[1]], 'valid', 'NHWC', [g.strides[0], g.strides[1]]);
  if (o.shape[1] !== kh || o.shape[2] !== kw) o = tf.slice(o, [0, 0, 0, 0], [-1, kh, kw, -1]);
  return tf.transpose(o, [1, 2, 0, 3]);
}

/**
 * dy spread on the stride grid and padded so that a stride-1 correlation with the flipped filter
 * (dilated as the forward one) gives exactly the gradient of the unpadded input [H, W].
 */
function spreadForFullCorrelation(dy: T4, inH: number, inW: number, kh: number, kw: number, g: ConvGeometry): T4 {
  const [n, ho, wo, c] = dy.shape;
  const [sh, sw] = g.strides;
  let d: T4 = dy;
  if (sh > 1 || sw > 1) {
    // Insert s−1 zeros after every row/column: [N, Ho, 1, Wo, 1, C] padded to [N, Ho, sh, Wo, sw, C].
    const r = tf.reshape(dy, [n, ho, 1, wo, 1, c]);
    const z = tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    d = tf.reshape(z, [n, ho * sh, wo * sw, c]);
  }
  const hd = d.shape[1];
  const wd = d.shape[2];
  // dxp[r] = Σ_a dy_spread[r − a·dh]·w[a]: correlate with the flipped filter after padding the
  // spread gradient by (effective kernel − 1) in front; keep only rows pt … pt + H − 1.
  const top = effectiveKernel(kh, g.dilations[0]) - 1 - g.pads[0];
  const left = effectiveKernel(kw, g.dilations[1]) - 1 - g.pads[2];
  const bottom = inH + g.pads[0] - hd;
  const right = inW + g.pads[2] - wd;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    d = tf.slice(d, [0, t0, l0, 0], [n, hd - t0 - Math.max(0, -bottom), wd - l0 - Math.max(0, -right), c]);
  }
  const pads: Array<[number, number]> = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
  return pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(d, pads) : d;
}

/** Gradient of a dense convolution with respect to its input (shape `xShape`, NHWC). */
export function conv2dInputGrad(dy: T4, filter: T4, xShape: readonly number[], g: ConvGeometry): T4 {
  const [n, h, w, ci] = xShape;
  const [kh, kw, , co] = filter.shape;
  const [, ho, wo] = dy.shape;
  return tf.tidy(() => {
    if (isPatchify(kh, kw, g)) {
      // Each output pixel scatters dy · Wᵀ back onto its own patch; patches do not overlap.
      const cols = tf.matMul(tf.reshape(dy, [n * ho * wo, co]), tf.reshape(filter, [kh * kw * ci, co]), false, true);
      let img: T4;
      if (kh === 1 && kw === 1) img = tf.reshape(cols, [n, ho, wo, ci]);
      else {
        const r = tf.transpose(tf.reshape(cols, [n * ho, wo, kh, kw * ci]), [0, 2, 1, 3]);
        img = tf.reshape(r, [n, ho * kh, wo * kw, ci]);
      }
      // img covers padded rows 0 … Ho·kh − 1; rows the forward pass never read get zero.
      const [pt, , pl] = g.pads;
      const hp = h + g.pads[0] + g.pads[1];
      const wp = w + g.pads[2] + g.pads[3];
      if (img.shape[1] !== hp || img.shape[2] !== wp) img = tf.pad(img, [[0, 0], [0, hp - img.shape[1]], [0, wp - img.shape[2]], [0, 0]]);
      return pt || pl || hp !== h || wp !== w ? tf.slice(img, [0, pt, pl, 0], [n, h, w, ci]) : img;
    }
    const spread = spreadForFullCorrelation(dy, h, w, kh, kw, g);
    // Flipped filter with in/out swapped: [kh, kw, Co, Ci].
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as T4;
    return tf.conv2d(spread, flipped, 1, 'valid', 'NHWC', [g.dilations[0], g.dilations[1]]);
  });
}

/** Gradient of a depthwise convolution (multiplier 1) with respect to its input. */
export function depthwiseInputGrad(dy: T4, filter: T4, xShape: readonly number[], g: ConvGeometry): T4 {
  const [, h, w] = xShape;
  const [kh, kw] = filter.shape;
  return tf.tidy(() => {
    const spread = spreadForFullCorrelation(dy, h, w, kh, kw, g);
    return tf.depthwiseConv2d(spread, tf.reverse(filter, [0, 1]) as T4, 1, 'valid', 'NHWC', [g.dilations[0], g.dilations[1]]);
  });
}

/**
 * Gradient of a depthwise convolution (multiplier 1) with respect to its filter [kh, kw, C, 1]:
 * dW[a,b,c] = Σ_{n,i,j} xp[n, a·dh + i·sh, b·dw + j·sw, c]·dy[n,i,j,c].
 */
export function depthwiseFilterGrad(x: T4, dy: T4, filterShape: readonly number[], g: ConvGeometry): T4 {
  const [kh, kw, c] = filterShape;
  const [n, ho, wo] = dy.shape;
  return tf.tidy(() => {
    const xp = padInput(x, g);
    if (oneOfStrideDilation(g)) {
      // One depthwise convolution over N·C channels (channel n·C + c): xp as [1, Hp, Wp, N·C]
      // correlated with dy as an [Ho, Wo, N·C, 1] filter dilated by the forward stride, with the
      // forward dilation as stride; then summed over n.
      const [, hp, wp] = xp.shape;
      const xi = n === 1 ? xp : tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, n * c]);
      const f = tf.reshape(n === 1 ? dy : tf.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, 1]);
      let o = tf.depthwiseConv2d(xi as T4, f as T4, [g.dilations[0], g.dilations[1]], 'valid', 'NHWC', [g.strides[0], g.strides[1]]);
      if (o.shape[1] !== kh || o.shape[2] !== kw) o = tf.slice(o, [0, 0, 0, 0], [1, kh, kw, n * c]);
      const perSample = tf.reshape(o, [kh, kw, n, c]);
      return tf.reshape(n === 1 ? perSample : tf.sum(perSample, 2), [kh, kw, c, 1]) as T4;
    }
    // Both stride and dilation above 1: one multiply-reduce per kernel tap.
    const taps: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) taps.push(tf.sum(tf.mul(tap(xp, a, b, ho, wo, g), dy), [0, 1, 2]));
    }
    return tf.reshape(tf.stack(taps), [kh, kw, c, 1]) as T4;
  });
}
