/**
 * Symbolic shapes of graph values, for the shape annotations the ONNX engine writes. A dimension
 * is a number when known at build time, else a string naming how it derives from the dynamic
 * input dimensions: two values whose names are equal have equal sizes at run time. onnxruntime
 * needs that proof to fuse a residual add into the convolution producing one of its inputs, which
 * its own shape inference cannot give once a dynamic size has passed through a strided conv.
 */

export type Dim = number | string;
export type Dims = readonly Dim[];

/**
 * Output length of a convolution or pooling window along one axis (ONNX floor rounding), or
 * undefined where it cannot be stated (ceil rounding of a symbolic length).
 */
export function windowOut(d: Dim, kernel: number, stride: number, pad: number, dilation = 1, ceil = false): Dim | undefined {
  const span = dilation * (kernel - 1) + 1;
  if (typeof d === 'number') {
    const q = (d + 2 * pad - span) / stride;
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  }
  if (ceil) return undefined;
  if (stride === 1 && 2 * pad === span - 1) return d;
  return `conv(${d},k${kernel},s${stride},p${pad},d${dilation})`;
}

/** Output length of a transposed convolution along one axis (no output padding). */
export function transposedOut(d: Dim, kernel: number, stride: number, pad: number): Dim {
  return typeof d === 'number' ? (d - 1) * stride - 2 * pad + kernel : `convT(${d},k${kernel},s${stride},p${pad})`;
}

/** Length after a Resize by `scale` (ONNX: floor(length · scale)). */
export function scaledOut(d: Dim, scale: number): Dim {
  return typeof d === 'number' ? Math.floor(d * scale) : `scale(${d},${scale})`;
}

/** The shape of an elementwise result under numpy broadcasting, where it can be stated. */
export function broadcastDims(a: Dims | undefined, b: Dims | undefined): Dims | undefined {
  if (!a || !b || a.length !== b.length) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || b[i] === 1) out.push(a[i]);
    else if (a[i] === 1) out.push(b[i]);
    else return undefined;
  }
  return out;
}

/** Whether two shapes are provably equal and not both fully known (only then is a hint useful). */
export function equalSymbolic(a: Dims | undefined, b: Dims | undefined): a is Dims {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((d, i) => d === b[i]) && a.some((d) => typeof d === 'string');
}
