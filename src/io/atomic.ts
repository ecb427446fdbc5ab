/**
 * Atomic file writes: data goes to a temporary file in the destination's folder, is flushed to
 * disk, then renamed over the destination. A reader never sees a half-written file, and a failed
 * write leaves the destination untouched (and no temporary file behind, also when the process
 * exits mid-write, e.g. on a closed stdout pipe or `process.exit`).
 */
import { unlinkSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Temporary files being written; removed if the process exits before their writes finish. */
const inFlight = new Set<string>();
process.on('exit', () => {
  for (const t of inFlight) {
    try {
      unlinkSync(t);
    } catch {
      // already gone
    }
  }
});

/** The temporary path used while writing `path` (same folder, hidden, unique). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file atomically by streaming through `write`, which receives an open handle to a
 * temporary file in the same folder. On success the file is fsynced and renamed to `path`;
 * on any error the temporary file is removed and the error rethrown.
 */
export async function withAtomicFile<T>(path: string, write: (fh: FileHandle) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', 0o644);
  inFlight.add(tmp);
  let closed = false;
  try {
    const result = await write(fh);
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(tmp, path);
    return result;
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}

/** Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await withAtomicFile(path, (fh) => writeAll(fh, bytes));
}

/** Writes all of `bytes` at the handle's current position. */
export async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
    off += bytesWritten;
  }
}
