/**
 * `convnext web` from the command line: the site with user models (fp16 and int8 exports of the
 * demo segmentor), `--serve` answering with the cross-origin isolation headers and stopping on
 * SIGTERM, and bad input (a missing model, a classifier, a detector with masks pasted in its
 * graph, a conflicting port).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteManifest } from '../../src/web/site.js';
import { CLI_BIN, runCli } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'convnext-web-cli-'));
const ASSETS = new URL('../../assets/demo/', import.meta.url).pathname;
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('convnext web', () => {
  it('--model: a site of the given exports (fp16 and dynamic int8), named by config and file, WebAssembly only with --no-webgpu', async () => {
    const fp16 = join(tmp, 'seg.fp16.onnx');
    const int8 = join(tmp, 'seg.int8.onnx');
    let r = await runCli(['export', '-c', 'demo_upernet_convnext-synth', '-w', join(ASSETS, 'upernet_convnext-synth.safetensors'), '--dynamic', '--weights-dtype', 'float16', '-o', fp16]);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(['quantize', '-c', 'demo_upernet_convnext-synth', '-w', join(ASSETS, 'upernet_convnext-synth.safetensors'), '--mode', 'dynamic', '--out', int8]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(tmp, 'site');
    r = await runCli(['web', '--out', out, '--model', fp16, '--model', int8, '--no-webgpu']);
    expect(r.code, r.stderr).toBe(0);
    const site = JSON.parse(readFileSync(join(out, 'site.json'), 'utf8')) as SiteManifest;
    expect(site.models.map((m) => [m.file, m.task, m.weights])).toEqual([
      ['models/seg.fp16.onnx', 'image-segmentation', 'float16'],
      ['models/seg.int8.onnx', 'image-segmentation', 'int8 dynamic'],
    ]);
    expect(site.models[0].name).toBe('demo_upernet_convnext-synth (seg.fp16.onnx)');
    expect(site.webgpu).toBe(false);
    expect(existsSync(join(out, 'ort', 'ort.webgpu.min.mjs'))).toBe(false);
    for (const f of ['index.html', 'page.js', 'style.css', 'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.wasm', ...site.samples]) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.stderr).toMatch(/^wrote .*models\/seg\.fp16\.onnx \(\d+\.\d MB\)/m);
  }, 240_000);

  it('--serve: serves the site with COOP/COEP headers and stops cleanly on SIGTERM', async () => {
    const out = join(tmp, 'served');
    const child = spawn(process.execPath, [CLI_BIN, 'web', '--out', out, '--serve', '--port', '0', '--no-webgpu'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /serving (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<pre id="results"');
    const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.wasm', url));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    await wasm.body?.cancel();
    const site = await (await fetch(new URL('site.json', url))).json() as SiteManifest;
    expect(site.models).toHaveLength(2);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 120_000);

  it('bad input: a missing model file, a classifier export, a bad port: one line, non-zero exit', async () => {
    let r = await runCli(['web', '--out', join(tmp, 'x'), '--model', join(tmp, 'nope.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nope.onnx');
    const cls = join(tmp, 'cls.onnx');
    r = await runCli(['export', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '-o', cls]);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(['web', '--out', join(tmp, 'y'), '--model', cls]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${cls}: a classifier model; the web page runs detectors and segmentors`);
    const pasted = join(tmp, 'pasted.onnx');
    r = await runCli(['export', '-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '-o', pasted, '--dynamic', '--image-size-input', '--paste-masks']);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(['web', '--out', join(tmp, 'p'), '--model', pasted]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${pasted}: masks pasted in the graph (export --paste-masks, for Triton clients); the web page runs detector exports without it`);
    r = await runCli(['web', '--out', join(tmp, 'z'), '--port', '70000']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("--port expects 0–65535, got '70000'");
  }, 120_000);
});
