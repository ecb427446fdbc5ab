/** Timing helpers for benchmarks (tools and `convnext bench`): medians, alternating contenders. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs each contender `warmup` times, then `runs` rounds in which every contender runs once, in
 * turn (so drifts in machine load hit all alike). Returns each contender's times in ms.
 */
export async function alternate(contenders: ReadonlyArray<() => Promise<unknown>>, runs: number, warmup = 2): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const c of contenders) await c();
  const times = contenders.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const t0 = performance.now();
      await contenders[i]();
      times[i].push(performance.now() - t0);
    }
  }
  return times;
}
