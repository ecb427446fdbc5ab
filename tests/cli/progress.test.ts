/**
 * Plain-line progress (no TTY): lines carry count, rate and ETA; `startedAt` makes the rate count
 * from when the work began (the training bar is created after its first step).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/progress.js';

function sink(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream: w as unknown as NodeJS.WriteStream, lines: () => text.split('\n').filter(Boolean) };
}

describe('progress (plain lines)', () => {
  it('rate and ETA count from startedAt', () => {
    const s = sink();
    const p = progress('train x', 10, { unit: 'steps', stream: s.stream, interval: 0, startedAt: Date.now() - 2000 });
    p.update(1, 'step 1/10');
    p.stop();
    const [line] = s.lines();
    const m = /^train x: 1\/10 steps \((\d+\.\d)\/s, ETA (\d+)s\) step 1\/10$/.exec(line);
    expect(m, line).not.toBeNull();
    // One step in about two seconds: ≈ 0.5/s and ≈ 18 s to go (a slow machine only lowers the rate).
    expect(Number(m![1])).toBeLessThanOrEqual(0.5);
    expect(Number(m![2])).toBeGreaterThanOrEqual(18);
  });

  it('without startedAt the clock starts at the call; the last count is printed on stop', () => {
    const s = sink();
    const p = progress('synth', 3, { unit: 'images', stream: s.stream, interval: 3600 });
    p.update(1);
    p.update(2);
    p.stop();
    expect(s.lines().map((l) => l.replace(/\(.*\)/, '(…)'))).toEqual(['synth: 1/3 images (…)', 'synth: 2/3 images (…)']);
  });
});
