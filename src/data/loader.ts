/**
 * The training data stream: which samples make batch k, and a prefetch queue that prepares the
 * next batches (sharp decodes on its own threads) while the current step computes.
 *
 * Sample order: the stream visits the dataset epoch after epoch, each epoch in its own seeded
 * random order; batch k holds stream positions k·B … k·B + B − 1. Each position gets its own
 * random generator. So batch k is a pure function of (seed, k): resuming at step k reproduces the
 * batches an uninterrupted run would see, whatever was prefetched.
 */
import { TrainRng } from './rng.js';

/** Mixes two integers into a 32-bit seed (murmur-style finaliser). */
export function mixSeed(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b >>> 0) + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Maps stream positions to dataset indices and per-position generators. */
export class SampleStream {
  private cachedEpoch = -1;
  private perm: Int32Array = new Int32Array(0);

  constructor(readonly size: number, readonly seed: number, readonly shuffle = true) {
    if (size < 1) throw new Error('sample stream over an empty dataset');
  }

  /** Dataset index at stream position `p`. */
  index(p: number): number {
    const epoch = Math.floor(p / this.size);
    if (!this.shuffle) return p % this.size;
    if (epoch !== this.cachedEpoch) {
      this.perm = new TrainRng(mixSeed(this.seed, epoch)).permutation(this.size);
      this.cachedEpoch = epoch;
    }
    return this.perm[p % this.size];
  }

  /** The generator of stream position `p` (augmentation draws). */
  rng(p: number): TrainRng {
    return new TrainRng(mixSeed(this.seed ^ 0x5a5a5a5a, p));
  }
}

/**
 * Prefetches `depth` batches ahead: `make(k)` builds batch k. Batches are returned in order by
 * {@link next}; a failure surfaces when its batch is asked for.
 */
export class Prefetcher<B> {
  private readonly queue: Array<{ step: number; value: Promise<B> }> = [];
  private nextStep: number;

  constructor(private readonly make: (step: number) => Promise<B>, start: number, private readonly depth = 2) {
    this.nextStep = start;
    this.fill();
  }

  private fill(): void {
    while (this.queue.length < this.depth) {
      const step = this.nextStep++;
      const value = this.make(step);
      value.catch(() => undefined); // reported when awaited
      this.queue.push({ step, value });
    }
  }

  /** The next batch (and its step number). */
  async next(): Promise<{ step: number; batch: B }> {
    const head = this.queue.shift()!;
    this.fill();
    return { step: head.step, batch: await head.value };
  }
}
