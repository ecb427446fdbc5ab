/**
 * Hostile inputs through the real CLI, as a stranger's file would arrive: exit code 2, exactly
 * one `error:` line of our own (no internal error text, no stack trace), bounded time and peak
 * memory (measured in the child by a probe that writes its maxRSS at exit), no payload run and
 * no output left behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { FIXTURES } from '../helpers.js';
import { f32, op, pickle, pngClaiming, repeat, safetensorsRaw, stateDictPickle, torchLegacy, torchZip } from './craft.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const W = join(FIXTURES, 'backbone', 'tv_v1.weights.safetensors');
const CFG = 'test_convnext-t-narrow_cls10';
const tmp = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
const MARKER = join(tmp, 'pwned');
const PROBE = join(tmp, 'rss-probe.mjs');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; stderr: string; ms: number; rssMB: number }

/** Runs the CLI with the RSS probe preloaded; `env` is added to the environment. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', PROBE, BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env, RSS_OUT: rssFile } }, (err, _stdout, stderr) => {
      const ms = performance.now() - t0;
      const rssMB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN;
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr, ms, rssMB });
    });
  });
}

/** A refused input: exit 2, one `error:` line matching `msg`, under 20 s and 600 MB. */
function expectRefused(r: Run, msg: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  const errors = lines.filter((l) => l.startsWith('error:'));
  expect(errors, r.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(msg);
  expect(r.stderr).not.toMatch(/run with --verbose|\n\s+at |TypeError|RangeError|Cannot read properties/);
  expect(r.ms).toBeLessThan(20_000);
  expect(r.rssMB).toBeGreaterThan(0);
  expect(r.rssMB).toBeLessThan(600);
}

const put = (name: string, data: Uint8Array | string): string => {
  const file = join(tmp, name);
  writeFileSync(file, data);
  return file;
};

let png: string;
beforeAll(async () => {
  writeFileSync(PROBE, "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)));\n");
  png = put('a.png', await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toBuffer());
});

const t = { name: 'w', key: '0', numel: 4, offset: 0, size: [4], stride: [1] };

describe('checkpoints', () => {
  it('a pickle that calls os.system: refused, never run', async () => {
    const file = put('evil.pth', torchZip(pickle(op.global('os', 'system'), op.mark(), op.str(`touch ${MARKER}`), op.tuple(), op.reduce())));
    expectRefused(await cli(['inspect', file]), /evil\.pth \(data\.pkl\): refusing to call os\.system/);
    expect(existsSync(MARKER)).toBe(false);
  });

  it('a MARK bomb', async () => {
    const file = put('marks.pth', torchZip(pickle(repeat(op.mark(), 50_000))));
    expectRefused(await cli(['inspect', file]), /limit pickle_marks=10000/);
  });

  it('a 1 MB LONG4 integer', async () => {
    const file = put('long4.pth', torchZip(pickle(op.long4(new Uint8Array(1 << 20).fill(7)))));
    expectRefused(await cli(['inspect', file]), /limit pickle_int_bytes=4096/);
  });

  it('a stride-0 view of one float as 2^26 elements', async () => {
    const file = put('stride0.pth', torchZip(stateDictPickle([{ ...t, numel: 1, size: [2 ** 26], stride: [0] }], 'zip'), { 0: f32([1]) }));
    const out = join(tmp, 'stride0.safetensors');
    expectRefused(await cli(['convert', file, out]), /limit tensor_amplification=64/);
    expect(existsSync(out)).toBe(false);
  });

  it('a legacy view with a negative offset', async () => {
    const file = put('legacy.pth', torchLegacy(stateDictPickle([{ ...t, view: ['v', -8, 4] }], 'legacy'), [['0', f32([1, 2, 3, 4])]]));
    expectRefused(await cli(['convert', file, join(tmp, 'legacy.safetensors')]), /storage view 'v' \(offset -8, size 4\) lies outside/);
  });

  it('safetensors with overlapping tensors', async () => {
    const e = (off: [number, number]): string => JSON.stringify({ dtype: 'F32', shape: [2], data_offsets: off });
    const file = put('overlap.safetensors', safetensorsRaw(`{"a":${e([0, 8])},"b":${e([4, 12])}}`, new Uint8Array(12)));
    expectRefused(await cli(['inspect', file]), /overlaps the tensor before it/);
  });
});

describe('images, configs, COCO files, limits', () => {
  it('a 16000² PNG bomb', async () => {
    const bomb = put('bomb.png', pngClaiming(16000, 16000));
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', bomb]), /bomb\.png: image of 16000×16000 pixels \(limit image_pixels=40000000/);
  });

  it('an SVG that references a file next to it', async () => {
    const svg = put('ref.svg', '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="24"><image xlink:href="a.png" width="32" height="24"/></svg>');
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', svg]), /ref\.svg: cannot read image \(SVG; accepted: JPEG, PNG, WebP, TIFF, GIF, AVIF\)/);
  });

  it('a symlink loop', async () => {
    symlinkSync(join(tmp, 'loop2'), join(tmp, 'loop1'));
    symlinkSync(join(tmp, 'loop1'), join(tmp, 'loop2'));
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', join(tmp, 'loop1')]), /loop1: too many levels of symbolic links/);
  });

  it('--set __proto__ and an absurd backbone', async () => {
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', png, '--set', '__proto__.x=1']), /'__proto__' is not allowed in a key path/);
    expectRefused(await cli(['bench', '--config', 'convnext-t_in1k', '--set', 'backbone.dims=[16,32,64,60000]']), /parameter stages\.3\.0\.pwconv1\.weight of shape \[240000, 60000\]/);
  });

  it('COCO: an image of 1e9², and a result RLE of another size than its image', async () => {
    const res = put('res.json', JSON.stringify([{ image_id: 1, category_id: 1, score: 0.9, segmentation: { size: [10, 10], counts: [100] } }]));
    const huge = put('huge.json', JSON.stringify({ images: [{ id: 1, width: 1e9, height: 1e9 }], categories: [{ id: 1, name: 'a' }], annotations: [] }));
    expectRefused(await cli(['eval', '--results', res, '--data', huge, '--out', join(tmp, 'e.json')]), /huge\.json: images\[0\]\.width: 1000000000 is beyond ±100000/);
    const gt = put('gt.json', JSON.stringify({ images: [{ id: 1, width: 64, height: 48 }], categories: [{ id: 1, name: 'a' }], annotations: [] }));
    expectRefused(await cli(['eval', '--results', res, '--data', gt, '--out', join(tmp, 'e.json')]), /res\.json: \[0\]\.segmentation\.size: \[10, 10\] differs from image 1's \[48, 64\]/);
    expect(existsSync(join(tmp, 'e.json'))).toBe(false);
  });

  it('CONVNEXT_LIMITS: lowered for one run, and a misspelt name', async () => {
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', png], { CONVNEXT_LIMITS: 'image_pixels=100' }), /a\.png: image of 32×24 pixels \(limit image_pixels=100;/);
    expectRefused(await cli(['classify', '-c', CFG, '-w', W, '--image', png], { CONVNEXT_LIMITS: 'image_pixel=100' }), /CONVNEXT_LIMITS: unknown limit 'image_pixel'/);
  });
});
