/**
 * `export --weights-dtype float16`: weight tensors of 1024+ elements stored as float16 behind a
 * Cast (folded once by onnxruntime at load), constants and small tensors kept float32. The file
 * is about half the size, and the outputs of the bundled demo models stay within 1e-2 relative of
 * the float32 export (measured: segmentor logits and detector boxes/scores, on a sample image).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { runCli } from '../helpers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelProto } from '../../src/core/ort/graph.js';
import { readRgb } from '../../src/io/image.js';

const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'convnext-half-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = runCli;

interface Decoded { graph: { node: Array<{ opType: string }>; initializer: Array<{ name: string; dataType: number; dims: unknown[] }> }; metadataProps: Array<{ key: string; value: string }> }
const decode = (file: string): Decoded => ModelProto.toObject(ModelProto.decode(readFileSync(file)), { defaults: true }) as unknown as Decoded;

/** A sample image as the normalised NCHW input (ImageNet mean/std on 0–255), padded to 32. */
async function sampleInput(): Promise<ort.Tensor> {
  const img = await readRgb(join(ASSETS, 'shapes', 'shapes_1.png'));
  const H = Math.ceil(img.height / 32) * 32;
  const W = Math.ceil(img.width / 32) * 32;
  const mean = [123.675, 116.28, 103.53];
  const std = [58.395, 57.12, 57.375];
  const x = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < img.height; y++) {
      for (let i = 0; i < img.width; i++) x[c * H * W + y * W + i] = (img.data[(y * img.width + i) * 3 + c] - mean[c]) / std[c];
    }
  }
  return new ort.Tensor('float32', x, [1, 3, H, W]);
}

const run = async (file: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> => {
  const s = await ort.InferenceSession.create(file);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
};

/** max |a − b| / max |a|. */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / m;
}

describe('export --weights-dtype float16', () => {
  const files: Record<string, string> = {};
  beforeAll(async () => {
    for (const dt of ['float32', 'float16']) {
      for (const [kind, cfg, w] of [['seg', 'demo_upernet_convnext-synth', 'upernet_convnext-synth'], ['det', 'demo_mask-rcnn_convnext-synth', 'mask-rcnn_convnext-synth']]) {
        const out = join(tmp, `${kind}-${dt}.onnx`);
        const r = await cli(['export', '-c', cfg, '-w', join(ASSETS, `${w}.safetensors`), '-o', out, '--dynamic', '--weights-dtype', dt]);
        expect(r.code, r.stderr).toBe(0);
        files[`${kind}-${dt}`] = out;
      }
    }
  });

  it('stores large weights as float16 behind Casts, keeps constants float32, halves the file', () => {
    const half = decode(files['seg-float16']);
    const full = decode(files['seg-float32']);
    const halves = half.graph.initializer.filter((t) => t.dataType === 10);
    expect(halves.length).toBeGreaterThan(10);
    expect(halves.every((t) => t.name.endsWith('__fp16') && t.dims.reduce((a: number, b) => a * Number(b), 1) >= 1024)).toBe(true);
    expect(half.graph.node.filter((n) => n.opType === 'Cast').length - full.graph.node.filter((n) => n.opType === 'Cast').length).toBe(halves.length);
    expect(full.graph.initializer.some((t) => t.dataType === 10)).toBe(false);
    const ratio = statSync(files['seg-float16']).size / statSync(files['seg-float32']).size;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.56);
    expect(half.metadataProps.find((p) => p.key === 'convnext.weights_dtype')?.value).toBe('float16');
  });

  it('segmentor logits within 1e-2 relative of the float32 export', async () => {
    const input = await sampleInput();
    const a = (await run(files['seg-float32'], { input })).logits.data as Float32Array;
    const b = (await run(files['seg-float16'], { input })).logits.data as Float32Array;
    expect(relErr(a, b)).toBeLessThan(1e-2);
  });

  it('detector: the same detections, boxes and scores within 1e-2 relative', async () => {
    const input = await sampleInput();
    const a = (await run(files['det-float32'], { input })).dets;
    const b = (await run(files['det-float16'], { input })).dets;
    expect(b.dims).toEqual(a.dims);
    const da = a.data as Float32Array;
    const db = b.data as Float32Array;
    for (let i = 0; i < a.dims[0]; i++) expect(db[i * 6 + 5]).toBe(da[i * 6 + 5]); // labels
    expect(relErr(da, db)).toBeLessThan(1e-2);
  });

  it('runs through detect --model like the float32 file', async () => {
    const out = join(tmp, 'detect16');
    const r = await cli(['detect', '--model', files['det-float16'], '--image', join(ASSETS, 'shapes', 'shapes_1.png'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'shapes_1.json'), 'utf8')) as { instances: Array<{ score: number }> };
    expect(res.instances.length).toBeGreaterThan(0);
    expect(res.instances[0].score).toBeGreaterThan(0.9);
  });
});
