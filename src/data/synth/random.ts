/** Seeded random helpers for the synthetic datasets (mulberry32 underneath, from core/init). */
import { rng } from '../../core/init.js';

/** A seeded source of random numbers with the helpers scene generation needs. */
export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = rng(seed);
  }

  /** The generator for image `index` of a dataset with seed `seed`: independent of the dataset size. */
  static forImage(seed: number, index: number): Random {
    // Mix seed and index (a 32-bit hash) so neighbouring images get unrelated streams.
    let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return new Random((h ^ (h >>> 16)) >>> 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.min(hi - lo, Math.floor(this.next() * (hi - lo + 1)));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** A random colour: hue anywhere, saturation and value within the given ranges. */
  colour(sat: readonly [number, number] = [0.3, 1], val: readonly [number, number] = [0.25, 1]): Rgb {
    return hsvToRgb(this.uniform(0, 360), this.uniform(sat[0], sat[1]), this.uniform(val[0], val[1]));
  }
}

export type Rgb = [number, number, number];

/** HSV (h in degrees, s and v in [0, 1]) to 8-bit RGB. */
export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const c = v * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** Euclidean distance between two colours. */
export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
