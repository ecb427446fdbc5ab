/**
 * Element types found in checkpoint files and their conversion to float32.
 *
 * `StoredDType` is a superset of the core `DType`: files may also hold unsigned 16/32/64-bit
 * integers and 8-bit floats. Every one of them converts to float32 for a {@link HostTensor}.
 */
import type { DType } from '../core/host-tensor.js';
import { UserError } from '../core/errors.js';
import { encodeFloat16, floatToHalfBits, halfBitsToFloat } from '../core/float16.js';
export { encodeFloat16, floatToHalfBits, halfBitsToFloat };

/** An element type as stored in a file (core `DType` plus file-only types). */
export type StoredDType =
  | DType
  | 'uint16' | 'uint32' | 'uint64'
  | 'float8_e4m3fn' | 'float8_e5m2' | 'float8_e8m0fnu';

/** Bytes per element of each stored dtype. */
export const DTYPE_SIZE: Readonly<Record<StoredDType, number>> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2,
  int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
  uint16: 2, uint32: 4, uint64: 8,
  float8_e4m3fn: 1, float8_e5m2: 1, float8_e8m0fnu: 1,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | null = null;

function getHalfTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfBitsToFloat(i);
  }
  return halfTable;
}

function fp8Table(kind: 'float8_e4m3fn' | 'float8_e5m2' | 'float8_e8m0fnu'): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    if (kind === 'float8_e5m2') {
      t[b] = halfBitsToFloat(b << 8);
    } else if (kind === 'float8_e8m0fnu') {
      t[b] = b === 0xff ? NaN : 2 ** (b - 127);
    } else {
      // e4m3fn: bias 7, no infinities, S.1111.111 is NaN.
      const sign = b & 0x80 ? -1 : 1;
      const exp = (b >> 3) & 0xf;
      const frac = b & 7;
      if (exp === 0xf && frac === 7) t[b] = NaN;
      else if (exp === 0) t[b] = sign * frac * 2 ** -9;
      else t[b] = sign * (1 + frac / 8) * 2 ** (exp - 7);
    }
  }
  return t;
}

const fp8Tables = new Map<string, Float32Array>();

/** Copies `bytes` into a fresh, aligned ArrayBuffer unless it is already aligned to `align`. */
function aligned(bytes: Uint8Array, align: number): ArrayBuffer {
  if (bytes.byteOffset % align === 0 && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

function checkLE(): void {
  if (!LITTLE_ENDIAN) throw new Error('checkpoint reading needs a little-endian host');
}

/**
 * Decodes `count` little-endian elements of `dtype` starting at `bytes[0]` into float32.
 * When `dtype` is float32 and the bytes are aligned, the result shares memory with `bytes`
 * only if `share` is true; otherwise it is always a fresh array.
 */
export function decodeToFloat32(
  dtype: StoredDType,
  bytes: Uint8Array,
  count: number,
  share = false,
): Float32Array {
  checkLE();
  const need = count * DTYPE_SIZE[dtype];
  if (bytes.byteLength < need) {
    throw new Error(`decode ${dtype}: ${bytes.byteLength} bytes for ${count} elements`);
  }
  const off = bytes.byteOffset;
  const out = (): Float32Array => new Float32Array(count);
  switch (dtype) {
    case 'float32': {
      if (share && off % 4 === 0 && bytes.buffer instanceof ArrayBuffer) {
        return new Float32Array(bytes.buffer, off, count);
      }
      const o = out();
      new Uint8Array(o.buffer).set(bytes.subarray(0, need));
      return o;
    }
    case 'float16': {
      const src = off % 2 === 0 ? new Uint16Array(bytes.buffer, off, count)
        : new Uint16Array(aligned(bytes.subarray(0, need), 2), 0, count);
      const t = getHalfTable();
      const o = out();
      for (let i = 0; i < count; i++) o[i] = t[src[i]];
      return o;
    }
    case 'bfloat16': {
      const src = off % 2 === 0 ? new Uint16Array(bytes.buffer, off, count)
        : new Uint16Array(aligned(bytes.subarray(0, need), 2), 0, count);
      const o = out();
      const bits = new Uint32Array(o.buffer);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return o;
    }
    case 'float64': {
      const src = new Float64Array(off % 8 === 0 ? bytes.buffer : aligned(bytes.subarray(0, need), 8),
        off % 8 === 0 ? off : 0, count);
      return Float32Array.from(src);
    }
    case 'int64':
    case 'uint64': {
      const buf = off % 8 === 0 ? bytes.buffer : aligned(bytes.subarray(0, need), 8);
      const o2 = off % 8 === 0 ? off : 0;
      const src = dtype === 'int64' ? new BigInt64Array(buf, o2, count) : new BigUint64Array(buf, o2, count);
      const o = out();
      for (let i = 0; i < count; i++) o[i] = Number(src[i]);
      return o;
    }
    case 'int32':
    case 'uint32': {
      const buf = off % 4 === 0 ? bytes.buffer : aligned(bytes.subarray(0, need), 4);
      const o2 = off % 4 === 0 ? off : 0;
      return Float32Array.from(dtype === 'int32' ? new Int32Array(buf, o2, count) : new Uint32Array(buf, o2, count));
    }
    case 'int16':
    case 'uint16': {
      const buf = off % 2 === 0 ? bytes.buffer : aligned(bytes.subarray(0, need), 2);
      const o2 = off % 2 === 0 ? off : 0;
      return Float32Array.from(dtype === 'int16' ? new Int16Array(buf, o2, count) : new Uint16Array(buf, o2, count));
    }
    case 'int8':
      return Float32Array.from(new Int8Array(bytes.buffer, off, count));
    case 'uint8':
      return Float32Array.from(bytes.subarray(0, count));
    case 'bool': {
      const o = out();
      for (let i = 0; i < count; i++) o[i] = bytes[i] ? 1 : 0;
      return o;
    }
    case 'float8_e4m3fn':
    case 'float8_e5m2':
    case 'float8_e8m0fnu': {
      let t = fp8Tables.get(dtype);
      if (!t) { t = fp8Table(dtype); fp8Tables.set(dtype, t); }
      const o = out();
      for (let i = 0; i < count; i++) o[i] = t[bytes[i]];
      return o;
    }
    default: {
      const never: never = dtype;
      throw new UserError(`unsupported dtype ${String(never)}`);
    }
  }
}

/**
 * Encodes float32 values in `dtype` as little-endian bytes (integers are rounded toward zero;
 * the caller decides that the values are integral).
 */
export function encodeFromFloat32(dtype: DType, src: Float32Array): Uint8Array {
  checkLE();
  const n = src.length;
  const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'float32': return bytes(src);
    case 'float16': return bytes(encodeFloat16(src));
    case 'bfloat16': {
      const bits = new Uint32Array(src.buffer, src.byteOffset, n);
      const o = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const x = bits[i];
        if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) { o[i] = (x >>> 16) | 0x40; continue; }
        o[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      return bytes(o);
    }
    case 'float64': return bytes(Float64Array.from(src));
    case 'int64': {
      const o = new BigInt64Array(n);
      for (let i = 0; i < n; i++) o[i] = BigInt(Math.trunc(src[i]));
      return bytes(o);
    }
    case 'int32': return bytes(Int32Array.from(src, Math.trunc));
    case 'int16': return bytes(Int16Array.from(src, Math.trunc));
    case 'int8': return bytes(Int8Array.from(src, Math.trunc));
    case 'uint8': return bytes(Uint8Array.from(src, Math.trunc));
    case 'bool': return Uint8Array.from(src, (v) => (v ? 1 : 0));
    default: {
      const never: never = dtype;
      throw new Error(`cannot encode ${String(never)}`);
    }
  }
}
