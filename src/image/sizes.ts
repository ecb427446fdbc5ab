/** Output sizes of the resize rules the detector configs use (plain arithmetic, no image needed). */

/** Resized [height, width] of an image of h × w. */
export function resizedSize(h: number, w: number, scale: readonly [number, number] | null, rounding: 'round' | 'floor'): [number, number] {
  if (!scale) return [h, w];
  const [long, short] = scale;
  if (rounding === 'round') {
    const s = Math.min(long / Math.max(h, w), short / Math.min(h, w));
    return [Math.max(1, Math.trunc(h * s + 0.5)), Math.max(1, Math.trunc(w * s + 0.5))];
  }
  const f = Math.fround;
  const s = Math.min(f(short / Math.min(h, w)), f(long / Math.max(h, w)));
  return [Math.max(1, Math.floor(h * s)), Math.max(1, Math.floor(w * s))];
}
