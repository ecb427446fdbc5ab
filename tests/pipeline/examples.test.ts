/**
 * The scripts in examples/ run as a user runs them (importing 'convnext'; here resolved to the
 * TypeScript sources through the `convnext-source` export condition) and print what they promise.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function example(name: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--conditions=convnext-source', '--import', 'tsx', `examples/${name}.ts`], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

describe('examples/', () => {
  it('detect.ts prints labelled boxes', async () => {
    const r = (await example('detect')) as { objects: Array<{ label: string; score: number; box: { xmin: number } }> };
    expect(r.objects.length).toBeGreaterThan(0);
    for (const o of r.objects) expect(['circle', 'square', 'triangle', 'star']).toContain(o.label);
  });

  it('segment.ts prints class shares summing to 1', async () => {
    const r = (await example('segment')) as { classes: Array<{ share: number }> };
    expect(r.classes.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 4);
  });

  it('classify.ts prints three classes by probability', async () => {
    const r = (await example('classify')) as { top: Array<{ score: number }> };
    expect(r.top).toHaveLength(3);
    expect(r.top[0].score).toBeGreaterThanOrEqual(r.top[2].score);
  });

  it('features.ts prints four levels with their strides', async () => {
    const r = (await example('features')) as Record<string, { stride: number }>;
    expect(Object.entries(r).map(([k, v]) => [k, v.stride])).toEqual([['p2', 4], ['p3', 8], ['p4', 16], ['p5', 32]]);
  });
});
