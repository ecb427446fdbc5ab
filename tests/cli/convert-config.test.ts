/** `convnext convert --config`: checks a checkpoint against a model before writing anything. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/cli/commands/convert.js';
import { FIXTURES } from '../helpers.js';

const W = join(FIXTURES, 'backbone', 'tv_v1.weights.safetensors');
const tmp = mkdtempSync(join(tmpdir(), 'convnext-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('convert --config', () => {
  it('reports a clean match for the config the checkpoint belongs to', async () => {
    const lines: string[] = [];
    await convertCheckpoint(W, join(tmp, 'a.safetensors'), { config: 'test_convnext-t-narrow_cls10', log: (l) => lines.push(l) });
    expect(lines.find((l) => l.startsWith('against config'))).toMatch(/missing 0, unexpected 0/);
  });

  it('fails on a shape mismatch naming the key and both shapes, and writes nothing', async () => {
    const out = join(tmp, 'b.safetensors');
    await expect(convertCheckpoint(W, out, { config: 'test_convnext-narrow_dense', log: () => {} }))
      .rejects.toThrow(/shape mismatch for downsample_layers\.2\.1\.weight: checkpoint has \[32, 16, 2, 2\], model expects \[24, 16, 2, 2\]/);
    expect(existsSync(out)).toBe(false);
  });
});
