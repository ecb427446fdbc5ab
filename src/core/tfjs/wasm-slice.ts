/**
 * The wasm backend's Slice kernel (and SplitV, which calls it once per part) first copies the
 * whole input out of the wasm heap (`readSync`) and only then takes its slice: slicing 150 k
 * floats out of a 1.2 M-float tensor costs 20–30 ms, and the gradient of a concatenation (a
 * split) pays it once per part. These replacements read the input through a view of the heap and
 * copy only the slice, row by row: same values, no full copy. Installed by {@link installWasmSlice}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { replaceKernel } from './replace-kernel.js';

const BACKEND = 'wasm';

type Numeric = Float32Array | Int32Array | Uint8Array;

/** Runs shorter than this are copied element by element (cheaper than a subarray + set). */
const SHORT_RUN = 64;

/** What these kernels use of the wasm backend (public methods of BackendWasm). */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Numeric;
}

/** Copies the box `begin … begin + size` of `src` (row-major `shape`) into `dst`, run by run along the last axis. */
export function copyBox(src: Numeric, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: Numeric): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  // The innermost axes the box spans fully merge into one run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  let run = size[inner];
  for (let d = inner + 1; d < rank; d++) run *= size[d];
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  if (count === 0 || run === 0) return;
  const idx = new Array<number>(inner).fill(0);
  let out = 0;
  for (let n = 0; n < count; n++) {
    let off = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) off += (begin[d] + idx[d]) * strides[d];
    if (run >= SHORT_RUN) dst.set(src.subarray(off, off + run), out);
    else for (let k = 0; k < run; k++) dst[out + k] = src[off + k];
    out += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
}

function sliceFromHeap(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmHeapBackend): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // Views are taken after the allocation, which may grow (and so move) the heap.
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

/**
 * Replaces the wasm Slice and SplitV kernels by heap-view versions (idempotent; a no-op when the
 * wasm backend is not registered). String tensors keep the original kernels.
 */
export function installWasmSlice(): boolean {
  const slice = replaceKernel('Slice', BACKEND, (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceFromHeap(x, b, s, args.backend as WasmHeapBackend);
  });
  const split = replaceKernel('SplitV', BACKEND, (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[ax] = n;
      const out = sliceFromHeap(x, [...begin], size, args.backend as WasmHeapBackend);
      begin[ax] += n;
      return out;
    });
  });
  return slice && split;
}
