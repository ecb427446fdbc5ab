/**
 * Geometry of a 2-D convolution in PyTorch terms (explicit padding, stride, dilation), and the
 * output size it gives. Shared by the differentiable convolutions and their backward passes.
 */

/** Padding, stride and dilation of a convolution (NHWC; padding may be asymmetric). */
export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** Zero padding [top, bottom, left, right]. */
  readonly pads: readonly [number, number, number, number];
}

/** A geometry from PyTorch-style symmetric values. */
export function geometry(stride: readonly [number, number], padding: readonly [number, number], dilation: readonly [number, number] = [1, 1]): ConvGeometry {
  return { strides: [stride[0], stride[1]], dilations: [dilation[0], dilation[1]], pads: [padding[0], padding[0], padding[1], padding[1]] };
}

/** Effective kernel extent along one axis: (k − 1)·d + 1. */
export function effectiveKernel(k: number, d: number): number {
  return (k - 1) * d + 1;
}

/** Output size along one axis: ⌊(in + pads − effective kernel) / stride⌋ + 1. */
export function outSize(inSize: number, k: number, s: number, d: number, padBefore: number, padAfter: number): number {
  return Math.floor((inSize + padBefore + padAfter - effectiveKernel(k, d)) / s) + 1;
}

/** The tfjs `pad` attribute for a geometry: 'valid' when unpadded, explicit NHWC pads otherwise. */
export function tfPad(g: ConvGeometry): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  const [t, b, l, r] = g.pads;
  return t === 0 && b === 0 && l === 0 && r === 0 ? 'valid' : [[0, 0], [t, b], [l, r], [0, 0]];
}

/** True when all four pads are zero. */
export function unpadded(g: ConvGeometry): boolean {
  return g.pads.every((p) => p === 0);
}
