/**
 * Progress for long work: a bar with rate and ETA on a TTY (cli-progress), plain lines otherwise
 * (at most one line every few seconds, plus the last).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the amount done (same unit as total). */
  update(done: number, note?: string): void;
  /** Finishes the bar or prints the last line. */
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted, e.g. 'images' or 'MB'. */
  unit?: string;
  /** Where lines go (stderr by default, so stdout stays clean for JSON). */
  stream?: NodeJS.WriteStream;
  /** Minimum seconds between plain lines. */
  interval?: number;
  /** When the work began (Date.now() ms), if before this call: rates count from it. */
  startedAt?: number;
}

/** A progress display for `total` units of work titled `label`. */
export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const unit = opts.unit ?? '';
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted} {note}`,
        stream,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const start = opts.startedAt ?? Date.now();
    bar.start(total, 0, { rate: '0', note: '' });
    return {
      update(done, note = '') {
        const secs = (Date.now() - start) / 1000;
        bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0', note });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const start = opts.startedAt ?? Date.now();
  let last = 0;
  let lastDone = -1;
  let current = 0;
  const interval = (opts.interval ?? 5) * 1000;
  const line = (done: number, note: string) => {
    const secs = (Date.now() - start) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    stream.write(`${label}: ${done}/${total} ${unit} (${rate.toFixed(1)}/s, ETA ${eta}s)${note ? ` ${note}` : ''}\n`);
    lastDone = done;
  };
  return {
    update(done, note = '') {
      current = done;
      const now = Date.now();
      if (now - last >= interval || (done === total && lastDone !== done)) {
        last = now;
        line(done, note);
      }
    },
    stop() {
      if (lastDone !== current) line(current, '');
    },
  };
}

/** A progress display that appears only once `total` reaches `from` bytes. */
export function byteProgress(label: string, from: number): { update: (done: number, total: number) => void; stop: () => void } {
  let bar: Progress | null = null;
  return {
    update(done, total) {
      if (total < from) return;
      bar ??= progress(label, Math.max(1, Math.round(total / 1e6)), { unit: 'MB' });
      bar.update(Math.round(done / 1e6));
    },
    stop() { bar?.stop(); bar = null; },
  };
}
