/**
 * A seeded, serialisable random source for training (sampling, augmentation, drop path): mulberry32
 * with its whole state in one 32-bit integer, so a checkpoint can store it and a resumed run draws
 * the same numbers an uninterrupted run would.
 */

/** A random stream whose state can be saved and restored. */
export class TrainRng {
  private a: number;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.min(hi - lo, Math.floor(this.next() * (hi - lo + 1)));
  }

  /** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** `k` distinct elements of `items`, chosen uniformly (their order is random). */
  choice<T>(items: ArrayLike<T>, k: number): T[] {
    const p = this.permutation(items.length);
    const out: T[] = [];
    for (let i = 0; i < Math.min(k, items.length); i++) out.push(items[p[i]]);
    return out;
  }

  /** A derived independent stream (for a worker or a sub-task), advancing this one once. */
  fork(): TrainRng {
    return new TrainRng(Math.floor(this.next() * 4294967296) ^ 0x5bd1e995);
  }

  /** The state (one unsigned 32-bit integer). */
  get state(): number {
    return this.a;
  }

  set state(s: number) {
    this.a = s >>> 0;
  }

  /** A bound `() => number` for APIs that take a plain generator. */
  fn(): () => number {
    return () => this.next();
  }
}
