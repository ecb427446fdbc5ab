/**
 * Number formatting that reproduces what the Python reference tools print, so our tables
 * read the same as mmsegmentation's and pycocotools' logs.
 */

/** Round to the nearest integer, ties to even (numpy's `rint`). */
export function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** numpy's `np.round(x, decimals)`: `rint(x * 10^d) / 10^d` (same float steps as numpy). */
export function npRound(x: number, decimals: number): number {
  const s = 10 ** decimals;
  return rint(x * s) / s;
}

/**
 * Python's `str(float)` for the values our tables print (rounded percentages): `85.3`,
 * `100.0`, `nan`. (Exponent notation thresholds differ from Python's; not needed here.)
 */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** The exact value of a finite double as `num / 2^shift` (num a BigInt, shift ≥ 0). */
function exactBinary(x: number): { num: bigint; shift: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) exp = -1074; // subnormal
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  if (exp >= 0) return { num: sign * (mant << BigInt(exp)), shift: 0n };
  return { num: sign * mant, shift: BigInt(-exp) };
}

/**
 * Python's `'{:0.Nf}'.format(x)`: the exact binary value rounded to N decimals, exact ties to
 * even (computed exactly with BigInt; JavaScript's `toFixed` breaks exact ties upward, e.g.
 * 0.0625 → "0.063" where Python prints "0.062").
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const { num, shift } = exactBinary(x);
  const neg = num < 0n || Object.is(x, -0);
  const scaled = (neg ? -num : num) * 10n ** BigInt(digits);
  const den = 1n << shift;
  let q = scaled / den;
  const r2 = (scaled % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const str = q.toString().padStart(digits + 1, '0');
  const body = digits > 0 ? `${str.slice(0, -digits)}.${str.slice(-digits)}` : str;
  return (neg ? '-' : '') + body;
}
