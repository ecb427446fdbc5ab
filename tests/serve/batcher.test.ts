/** The dynamic batcher: groups by size or delay, bounds its queue, withdraws aborted items, drains. */
import { describe, expect, it } from 'vitest';
import { Batcher, QueueFull } from '../../src/serve/batcher.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A batcher whose run doubles its items after `ms`, recording each group. */
function doubler(opts: { maxBatch: number; maxDelayMs: number; maxQueue: number; workers: number }, ms = 5) {
  const groups: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const b = new Batcher<number, number>(async (items) => {
    groups.push([...items]);
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    await sleep(ms);
    concurrent--;
    if (items.includes(-1)) throw new Error('bad group');
    return items.map((x) => x * 2);
  }, opts);
  return { b, groups, maxConcurrent: () => maxConcurrent };
}

describe('Batcher', () => {
  it('runs a full group at once, in submission order, one result per item', async () => {
    const { b, groups } = doubler({ maxBatch: 4, maxDelayMs: 10_000, maxQueue: 100, workers: 1 });
    const out = await Promise.all([1, 2, 3, 4].map((x) => b.submit(x)));
    expect(out).toEqual([2, 4, 6, 8]);
    expect(groups).toEqual([[1, 2, 3, 4]]);
  });

  it('runs a partial group once its oldest item waited maxDelayMs', async () => {
    const { b, groups } = doubler({ maxBatch: 8, maxDelayMs: 30, maxQueue: 100, workers: 1 });
    const t0 = performance.now();
    expect(await Promise.all([b.submit(1), b.submit(2)])).toEqual([2, 4]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(groups).toEqual([[1, 2]]);
  });

  it('items arriving while a group runs form the next group', async () => {
    const { b, groups } = doubler({ maxBatch: 3, maxDelayMs: 0, maxQueue: 100, workers: 1 }, 20);
    const first = b.submit(1);
    await sleep(1);
    const rest = [2, 3, 4, 5].map((x) => b.submit(x));
    await Promise.all([first, ...rest]);
    expect(groups).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('refuses with QueueFull beyond maxQueue waiting items', async () => {
    const { b } = doubler({ maxBatch: 1, maxDelayMs: 0, maxQueue: 2, workers: 1 }, 30);
    const accepted = [b.submit(1)]; // starts running at once
    await sleep(1);
    accepted.push(b.submit(2), b.submit(3)); // wait
    await expect(b.submit(4)).rejects.toBeInstanceOf(QueueFull);
    expect(await Promise.all(accepted)).toEqual([2, 4, 6]);
  });

  it('runs up to `workers` groups at once', async () => {
    const { b, maxConcurrent } = doubler({ maxBatch: 1, maxDelayMs: 0, maxQueue: 100, workers: 3 }, 20);
    await Promise.all(Array.from({ length: 9 }, (_, i) => b.submit(i)));
    expect(maxConcurrent()).toBe(3);
  });

  it('a failing group rejects its own items only', async () => {
    const { b, groups } = doubler({ maxBatch: 2, maxDelayMs: 10, maxQueue: 100, workers: 1 }, 5);
    const bad = [b.submit(-1), b.submit(7)];
    const good = b.submit(3);
    await expect(bad[0]).rejects.toThrow('bad group');
    await expect(bad[1]).rejects.toThrow('bad group');
    expect(await good).toBe(6);
    expect(groups).toEqual([[-1, 7], [3]]);
  });

  it('an aborted item leaves the queue; drain waits for the rest', async () => {
    const { b, groups } = doubler({ maxBatch: 8, maxDelayMs: 40, maxQueue: 100, workers: 1 });
    const ac = new AbortController();
    const gone = b.submit(1, ac.signal);
    const kept = b.submit(2);
    ac.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(b.depth).toBe(1);
    await b.drain();
    expect(await kept).toBe(4);
    expect(groups).toEqual([[2]]);
    expect(b.busy).toBe(false);
  });

  it('a signal aborted before submit is refused at once; a started item keeps no abort listener', async () => {
    const { b } = doubler({ maxBatch: 1, maxDelayMs: 0, maxQueue: 10, workers: 1 });
    const gone = new AbortController();
    gone.abort(new Error('already late'));
    await expect(b.submit(1, gone.signal)).rejects.toThrow('already late');
    const ac = new AbortController();
    let listeners = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => { listeners++; return add(...a); }) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof remove>) => { listeners--; return remove(...a); }) as typeof remove;
    expect(await b.submit(2, ac.signal)).toBe(4);
    expect(listeners).toBe(0);
    ac.abort(new Error('after the answer')); // no effect on a finished item
  });

  it('drain resolves after the last waiting item is withdrawn', async () => {
    const { b } = doubler({ maxBatch: 8, maxDelayMs: 50, maxQueue: 10, workers: 1 });
    const ac = new AbortController();
    const p = b.submit(1, ac.signal).catch((e: Error) => e.message);
    ac.abort(new Error('withdrawn'));
    expect(await p).toBe('withdrawn');
    await b.drain();
    expect(b.busy).toBe(false);
  });
});
