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

/**
 * Python's `'{:0.Nf}'.format(x)`: the exact binary value rounded to N decimals with exact
 * ties to even (JavaScript's `toFixed` breaks exact ties upward: 0.0625 gives "0.063" where
 * Python prints "0.062").
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const p = 10 ** digits;
  const a = Math.abs(x);
  const twice = a * 2 * p;
  if (Number.isInteger(twice) && twice % 2 === 1 && twice / (2 * p) === a) {
    // Exact tie: a * 10^N = n + 0.5 with n an integer; keep the even neighbour.
    const n = (twice - 1) / 2;
    const k = n % 2 === 0 ? n : n + 1;
    const str = k.toString().padStart(digits + 1, '0');
    const out = digits > 0 ? `${str.slice(0, -digits)}.${str.slice(-digits)}` : str;
    return (x < 0 ? '-' : '') + out;
  }
  return x.toFixed(digits);
}
