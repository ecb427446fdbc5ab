/** Element types a host tensor can carry (safetensors / PyTorch names, lower case). */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * A dense, contiguous, row-major tensor in host memory, in PyTorch layout
 * (conv weights OIHW, linear weights [out, in], feature maps NCHW).
 * Parameters and I/O use float32; other dtypes appear only while reading files.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Shape as `[a, b, c]` for messages. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
