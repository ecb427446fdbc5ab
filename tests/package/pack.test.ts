/**
 * The published package works on its own: `npm pack` makes a tarball (of the dist/ that `npm test`
 * built before vitest; `--ignore-scripts` so that no rebuild races the CLI tests running beside it) that is unpacked into a fresh consumer project's node_modules; a plain ESM script there
 * runs `import { pipeline } from 'convnext'` on the bundled demo models, and the packaged CLI runs
 * from compiled JavaScript. Offline: the package's own dependencies are provided by a
 * node_modules folder above the consumer (a link to this checkout's), so nothing is downloaded;
 * that the declared dependencies install is what `npm ci` checks.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'convnext-pack-'));
const consumer = join(tmp, 'consumer');
const pkg = join(consumer, 'node_modules', 'convnext');
let files: string[] = [];

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const info = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = info[0].files.map((f) => f.path);
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', join(tmp, info[0].filename), '-C', pkg, '--strip-components=1']);
  symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'), 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds the compiled library, its types, the CLI, configs and demo assets, and no tests', () => {
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'bin/convnext.js', 'assets/demo/mask-rcnn_convnext-synth.safetensors', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => f.startsWith('tests/') || f.startsWith('tools/'))).toBe(false);
    expect(existsSync(join(pkg, 'dist', 'src', 'pipeline', 'index.js'))).toBe(true);
  });

  it("a consumer's `import { pipeline } from 'convnext'` detects and segments with the demo models", async () => {
    writeFileSync(join(consumer, 'main.mjs'), `
import { pipeline } from 'convnext';
const image = 'node_modules/convnext/assets/demo/shapes/shapes_0.png';
const detect = await pipeline('object-detection');
const objects = await detect(image, { threshold: 0.5 });
await detect.dispose();
const segment = await pipeline('image-segmentation');
const { classes } = await segment(image);
await segment[Symbol.asyncDispose]();
console.log(JSON.stringify({ objects: objects.map((o) => o.label), classes: classes.map((c) => c.label) }));
`);
    const r = await run(['main.mjs'], consumer);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { objects: string[]; classes: string[] };
    expect(out.objects.length).toBeGreaterThan(0);
    expect(out.classes).toContain('background');
  });

  it('the packaged CLI runs compiled code: --help and classify', async () => {
    const bin = join(pkg, 'bin', 'convnext.js');
    const help = await run([bin, '--help'], consumer);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/detect\s+instance segmentation/);
    const c = await run([bin, 'classify', '-c', 'test_convnext-t-narrow_cls10', '-w', join(pkg, 'assets', 'demo', 'convnext-t-narrow_cls10.safetensors'), '--image', join(pkg, 'assets', 'demo', 'chelsea.jpg'), '--topk', '2'], consumer);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as { topk: unknown[] }).topk).toHaveLength(2);
    expect(readdirSync(pkg)).not.toContain('node_modules');
  });
});
