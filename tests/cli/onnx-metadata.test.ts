/**
 * Self-describing ONNX: `convnext export` writes `metadata_props` (config, model type, class names,
 * pre-processing, output layouts, producer version); the resolved config read back validates to
 * the same config; onnxruntime loads and runs the file; `convnext inspect model.onnx` prints them,
 * and a file that is not ONNX gives a one-line error.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../configs/index.js';
import { validateConfig } from '../../src/config/resolve.js';
import { readOnnxInfo } from '../../src/core/ort/metadata.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), 'convnext-onnx-meta-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 240_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

describe('exported ONNX models describe themselves', () => {
  it('a detector: config, classes, input conventions and output layouts; onnxruntime runs it', async () => {
    const file = join(tmp, 'det.onnx');
    const name = 'demo_mask-rcnn_convnext-synth';
    const r = await cli(['export', '-c', name, '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '-o', file, '--dynamic']);
    expect(r.code, r.stderr).toBe(0);
    const info = readOnnxInfo(readFileSync(file));
    expect(info.producer).toBe('convnext');
    expect(info.producerVersion).toBe(VERSION);
    // A dynamic export takes a batch: outputs padded per image, with per-image counts.
    expect(info.inputs).toEqual([{ name: 'input', dims: ['batch', 3, 'height', 'width'] }]);
    expect(info.outputs.map((o) => o.name)).toEqual(['dets', 'masks', 'num_dets', 'proposals', 'num_proposals']);
    const m = info.metadata;
    expect(m['convnext.version']).toBe(VERSION);
    expect(m['convnext.model_type']).toBe('mask_rcnn');
    expect(m['convnext.config_name']).toBe(name);
    expect(validateConfig(JSON.parse(m['convnext.config']), 'metadata')).toEqual(resolveConfig(name));
    expect(JSON.parse(m['convnext.class_names'])).toEqual(['circle', 'square', 'triangle', 'star']);
    const input = JSON.parse(m['convnext.input']) as { mean: number[]; std: number[]; conventions: string; size_divisor: number };
    expect(input.mean).toEqual(resolveConfig(name).input.mean);
    expect(input.conventions).toBe('mmdet');
    expect(Object.keys(JSON.parse(m['convnext.outputs']) as object)).toEqual(['dets', 'masks', 'num_dets', 'proposals', 'num_proposals']);
    expect(JSON.parse(m['convnext.outputs']).dets).toMatch(/^\[N, K, 6\].*x1, y1, x2, y2 .*score, label/);
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 128 * 128).fill(0.1), [2, 3, 128, 128]) });
    expect(out.dets.dims).toEqual([2, 20, 6]);
    expect(out.num_dets.dims).toEqual([2]);
    await session.release();

    // At a fixed size the file runs one image per call: the batch dimension is declared 1 and onnxruntime refuses a batch by name.
    const fixed = join(tmp, 'det-320.onnx');
    expect((await cli(['export', '-c', name, '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '-o', fixed, '--size', '320'])).code).toBe(0);
    const fixedInfo = readOnnxInfo(readFileSync(fixed));
    expect(fixedInfo.inputs).toEqual([{ name: 'input', dims: [1, 3, 320, 320] }]);
    expect(fixedInfo.outputs.map((o) => o.name)).toEqual(['dets', 'masks', 'proposals']);
    expect(JSON.parse(fixedInfo.metadata['convnext.outputs']).dets).toMatch(/^\[D, 6\]/);
    const one = await ort.InferenceSession.create(fixed);
    await expect(one.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 320 * 320), [2, 3, 320, 320]) })).rejects.toThrow(/invalid dimensions for input: input/);
    await one.release();

    const shown = await cli(['inspect', file]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/produced by convnext/);
    expect(shown.stdout).toMatch(/inputs: +input \[batch, 3, height, width\]/);
    expect(shown.stdout).toMatch(/convnext\.model_type: mask_rcnn/);
    const asJson = JSON.parse((await cli(['inspect', file, '--json'])).stdout) as { metadata: Record<string, string> };
    expect(asJson.metadata).toEqual(m);
  });

  it('a classifier at its fixed size: input dims, output layout, class names', async () => {
    const file = join(tmp, 'cls.onnx');
    const r = await cli(['export', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors'), '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    const info = readOnnxInfo(readFileSync(file));
    expect(info.inputs[0].dims).toEqual([1, 3, 64, 64]);
    expect(JSON.parse(info.metadata['convnext.input']).dims).toEqual([1, 3, 64, 64]);
    expect(JSON.parse(info.metadata['convnext.outputs'])).toEqual({ logits: expect.stringMatching(/\[N, num_classes\]/) });
    expect(JSON.parse(info.metadata['convnext.class_names'])).toHaveLength(10);
  });

  it('inspect of a file that is not ONNX gives one line', async () => {
    const bad = join(tmp, 'bad.onnx');
    writeFileSync(bad, 'not a model at all');
    const r = await cli(['inspect', bad]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.onnx: not a readable ONNX model/);
  });
});
