/**
 * Dynamic batching: requests wait in a bounded queue and are run in groups of up to `maxBatch`,
 * as soon as a group is full or its oldest request has waited `maxDelayMs`, whichever comes
 * first, on up to `workers` groups at once.
 */

/** How a {@link Batcher} groups and bounds its work. */
export interface BatcherOptions {
  /** Most items in one run. */
  maxBatch: number;
  /** Longest an item waits for others to join its group (ms). */
  maxDelayMs: number;
  /** Most items waiting (not yet running); more are refused with {@link QueueFull}. */
  maxQueue: number;
  /** Groups running at once. */
  workers: number;
}

/** Observers of the batcher, for metrics. */
export interface BatcherHooks {
  onBatch?(size: number): void;
  onQueueDepth?(depth: number): void;
}

/** The queue is full: the caller should retry later (a server answers 429). */
export class QueueFull extends Error {
  override name = 'QueueFull';
}

interface Pending<I, O> {
  item: I;
  since: number;
  resolve(value: O): void;
  reject(err: unknown): void;
  /** Detaches the abort listener (it holds the item: leaving it would keep the item alive). */
  detach(): void;
}

/** Groups submitted items into runs of `run`, which returns one result per item, in order. */
export class Batcher<I, O> {
  private readonly queue: Array<Pending<I, O>> = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private idle: Array<() => void> = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions,
    private readonly hooks: BatcherHooks = {},
  ) {}

  /** Items waiting to run. */
  get depth(): number {
    return this.queue.length;
  }

  /** Items waiting or running. */
  get busy(): boolean {
    return this.queue.length > 0 || this.running > 0;
  }

  /**
   * Queues `item`; resolves with its result. Rejects at once with {@link QueueFull} when the queue
   * is full. `signal` withdraws the item while it still waits (for request timeouts).
   */
  submit(item: I, signal?: AbortSignal): Promise<O> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new QueueFull(`queue full (${this.opts.maxQueue} waiting)`));
    return new Promise<O>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(p);
        if (i >= 0) {
          this.queue.splice(i, 1);
          this.notify(() => this.hooks.onQueueDepth?.(this.queue.length));
          reject(signal!.reason);
        }
      };
      const p: Pending<I, O> = { item, since: performance.now(), resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(p);
      this.notify(() => this.hooks.onQueueDepth?.(this.queue.length));
      this.pump();
    });
  }

  /** Resolves when nothing waits or runs (after a server stops taking requests). */
  drain(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running < this.opts.workers && this.queue.length > 0) {
      const waited = performance.now() - this.queue[0].since;
      if (this.queue.length < this.opts.maxBatch && waited < this.opts.maxDelayMs) {
        this.timer = setTimeout(() => this.pump(), Math.max(0, this.opts.maxDelayMs - waited));
        return;
      }
      void this.start(this.queue.splice(0, this.opts.maxBatch));
    }
    if (!this.busy) for (const done of this.idle.splice(0)) done();
  }

  /** Calls an observer; an observer that throws never stalls the batcher. */
  private notify(f: () => void): void {
    try {
      f();
    } catch {
      // metrics only
    }
  }

  private async start(group: Array<Pending<I, O>>): Promise<void> {
    this.running++;
    for (const p of group) p.detach();
    this.notify(() => this.hooks.onQueueDepth?.(this.queue.length));
    this.notify(() => this.hooks.onBatch?.(group.length));
    try {
      const out = await this.run(group.map((p) => p.item));
      group.forEach((p, i) => p.resolve(out[i]));
    } catch (err) {
      for (const p of group) p.reject(err);
    } finally {
      this.running--;
      this.pump();
    }
  }
}
