/**
 * CLI behaviour a new user runs into: several --image values (a shell glob), a folder run that
 * continues past a bad file, conflicting export flags, a closed output pipe, no TensorFlow.js
 * banner, and only the image formats that can be decoded listed as images.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { imageFiles, isImageFile } from '../../src/io/image-files.js';
import { resolveRecipe } from '../../configs/index.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const SHAPES = join(ASSETS, 'shapes');
const tmp = mkdtempSync(join(tmpdir(), 'convnext-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 240_000 }, (err, stdout, stderr) => resolve({ code: err ? (err.code as number) ?? 1 : 0, stdout, stderr }));
  });
}

describe('CLI behaviour', () => {
  it('detect takes several --image values (as a shell expands a glob)', async () => {
    const out = join(tmp, 'several');
    const files = [join(SHAPES, 'shapes_0.png'), join(SHAPES, 'shapes_2.png')];
    const r = await cli(['detect', '-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '--image', ...files, '-o', out, '--no-overlay']);
    expect(r.code, r.stderr).toBe(0);
    const images = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as Array<{ file_name: string }>;
    expect(images.map((i) => i.file_name)).toEqual(files);
    // --nms agnostic: no more instances than the class-wise run.
    const agnostic = join(tmp, 'agnostic');
    const a = await cli(['detect', '-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '--image', ...files, '-o', agnostic, '--no-overlay', '--nms', 'agnostic']);
    expect(a.code, a.stderr).toBe(0);
    const count = (dir: string) => (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as unknown[]).length;
    expect(count(agnostic)).toBeLessThanOrEqual(count(out));
  });

  it('demo on a folder with a bad file writes the others and lists the failure', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir, { recursive: true });
    for (const f of ['shapes_1.png', 'shapes_3.png']) copyFileSync(join(SHAPES, f), join(dir, f));
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    const out = join(tmp, 'demo');
    const r = await cli(['demo', '--image', dir, '-o', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed: .*broken\.png: cannot read image/);
    expect(r.stderr).toMatch(/1 image\(s\) could not be read/);
    for (const stem of ['shapes_1', 'shapes_3']) {
      expect(existsSync(join(out, 'detect', `${stem}.json`)), stem).toBe(true);
      expect(existsSync(join(out, 'segment', `${stem}.json`)), stem).toBe(true);
    }
    // demo and detect write one format, at one default threshold, for the same model and images.
    const det = join(tmp, 'demo-vs-detect');
    const d = await cli(['detect', '-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '--image', dir, '-o', det, '--no-overlay']);
    expect(d.code).not.toBe(0);
    for (const stem of ['shapes_1', 'shapes_3']) {
      expect(JSON.parse(readFileSync(join(out, 'detect', `${stem}.json`), 'utf8'))).toEqual(JSON.parse(readFileSync(join(det, `${stem}.json`), 'utf8')));
    }
  });

  it('export refuses --dynamic with --size', async () => {
    const r = await cli(['export', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '-o', join(tmp, 'x.onnx'), '--dynamic', '--size', '320x480']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/option '--dynamic' cannot be used with option '--size <HxW>'/);
    expect(existsSync(join(tmp, 'x.onnx'))).toBe(false);
  });

  it('a closed output pipe (convnext configs | head -1) ends quietly', async () => {
    const child = spawn(process.execPath, [BIN, 'configs'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('no TensorFlow.js banner on the cpu backend: only our own lines', async () => {
    const r = await cli(['classify', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '--image', join(ASSETS, 'chelsea.jpg'), '-e', 'tfjs', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/Hi, looks like you are running TensorFlow\.js/);
    expect(r.stderr).toMatch(/tfjs backend: cpu/);
  });

  it('classify takes a folder: one JSON array in file order, --batch 3 (batches of 3 and 2) as one by one, a corrupt file listed at the end', async () => {
    const dir = join(tmp, 'cls-folder');
    mkdirSync(dir);
    for (const f of ['shapes_0.png', 'shapes_1.png', 'shapes_2.png', 'shapes_3.png']) copyFileSync(join(SHAPES, f), join(dir, f));
    copyFileSync(join(ASSETS, 'chelsea.jpg'), join(dir, 'z.jpg'));
    writeFileSync(join(dir, 'bad.png'), 'not a png');
    const args = ['classify', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '--image', dir, '--topk', '3'];
    const [one, three] = [await cli(args), await cli([...args, '--batch', '3'])];
    type Row = { image: string; topk: Array<{ index: number; score: number }> };
    for (const r of [one, three]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/failed: .*bad\.png: cannot read image/);
    }
    const [a, b] = [JSON.parse(one.stdout) as Row[], JSON.parse(three.stdout) as Row[]];
    expect(a.map((x) => x.image.split('/').pop())).toEqual(['shapes_0.png', 'shapes_1.png', 'shapes_2.png', 'shapes_3.png', 'z.jpg']);
    expect(b.map((x) => x.image)).toEqual(a.map((x) => x.image));
    a.forEach((x, i) => {
      expect(b[i].topk.map((t) => t.index)).toEqual(x.topk.map((t) => t.index));
      x.topk.forEach((t, k) => expect(Math.abs(b[i].topk[k].score - t.score)).toBeLessThan(1e-5));
    });
  });

  it('BMP (which sharp cannot decode) is not listed as an image', () => {
    expect(isImageFile('a.bmp')).toBe(false);
    const dir = join(tmp, 'bmp');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.bmp'), 'BM');
    copyFileSync(join(SHAPES, 'shapes_0.png'), join(dir, 'b.png'));
    expect(imageFiles(dir)).toEqual([join(dir, 'b.png')]);
  });

  it("a training run's saved config.json is accepted back by --config; convnext configs lists the recipes", async () => {
    const recipe = resolveRecipe('test_train_upernet');
    const saved = join(tmp, 'config.json');
    writeFileSync(saved, JSON.stringify(recipe.raw, null, 2));
    const show = await cli(['config', 'show', saved]);
    expect(show.code, show.stderr).toBe(0);
    expect((JSON.parse(show.stdout) as { type: string }).type).toBe('segmentor');
    // As a training config it is the whole recipe again (optimizer and schedule included).
    const back = resolveRecipe(saved);
    expect(back.optimizer).toEqual(recipe.optimizer);
    expect(back.model).toEqual(recipe.model);
    const list = await cli(['configs', '--json']);
    const names = JSON.parse(list.stdout) as { configs: string[]; recipes: string[] };
    expect(names.recipes).toContain('test_train_upernet');
    expect(names.configs).toContain('demo_upernet_convnext-synth');
  });
});
