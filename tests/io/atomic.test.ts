/**
 * Atomic writes when the process exits mid-write (a closed stdout pipe, `process.exit`): the
 * destination keeps its previous content and no temporary file is left in the folder.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ATOMIC = fileURLToPath(new URL('../../src/io/atomic.ts', import.meta.url));

describe('atomic writes', () => {
  it('an exit during the write leaves the old file and no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const out = join(dir, 'out.json');
    writeFileSync(out, 'OLD');
    // The child starts a write, then exits while the write callback is still running.
    const script = `import { withAtomicFile } from ${JSON.stringify(ATOMIC)};
      withAtomicFile(${JSON.stringify(out)}, async (fh) => { await fh.write('NEW PARTIAL'); process.exit(3); });`;
    const code = await new Promise<number>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err) => resolve(err ? Number(err.code) : 0));
    });
    expect(code).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('OLD');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });
});
