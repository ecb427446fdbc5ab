/**
 * End to end: a torchvision ConvNeXt saved by torch.save (.pth, torchvision key layout) →
 * `convnext features --weights file.pth` → the stage outputs torchvision computed for the same
 * input (tools/fixtures/gen_io_fixtures.py). Tolerance as in the backbone golden tests:
 * max abs error ≤ 1e-4 × max abs expected.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readSafetensors } from '../../src/io/safetensors.js';
import { compare, PARITY_REL_TOL } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'io');

describe('convnext features --weights file.pth', () => {
  it("reproduces torchvision's stage outputs", async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'e2e-')), 'features.safetensors');
    const { stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'convnext.js'), 'features',
      '--config', join(FIX, 'tiny_v1_cls5.json'), '--weights', join(FIX, 'layout_torchvision.pth'),
      '--tensor', join(FIX, 'tv_features_input.safetensors'), '--out', out], { cwd: ROOT });
    expect(stderr).toMatch(/layout_torchvision\.pth \(torchvision\)/);
    const got = await readSafetensors(out);
    const exp = await readSafetensors(join(FIX, 'tv_features_expected.safetensors'));
    expect([...got.tensors.keys()].sort()).toEqual(['p2', 'p3', 'p4', 'p5']);
    for (const [name, e] of exp.tensors) {
      const c = compare(got.tensors.get(name)!, e);
      expect(c.rel, `${name}: max abs err ${c.maxErr}`).toBeLessThanOrEqual(PARITY_REL_TOL);
    }
  });
});
