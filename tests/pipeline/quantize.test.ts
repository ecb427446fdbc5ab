/**
 * Quantization from the library: `quantize()` returns the int8 bytes and the report, and
 * `pipeline(task, { quantize })` runs the int8 model with the task's usual results, which agree
 * with the float pipeline's on the bundled sample images (stated thresholds below).
 */
import { cosineSimilarity } from '../../src/core/similarity.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pipeline, quantize } from '../../src/index.js';

const SHAPES = fileURLToPath(new URL('../../assets/demo/shapes/', import.meta.url));
const samples = readdirSync(SHAPES).filter((f) => f.endsWith('.png')).sort().map((f) => join(SHAPES, f));


describe('quantize() and pipeline({ quantize })', () => {
  it('quantize() of the demo segmentor: int8 bytes and a report', async () => {
    const { bytes, report } = await quantize({ config: 'demo_upernet_convnext-synth', calibration: samples.slice(0, 2) });
    expect(bytes.length).toBe(report.int8Bytes);
    expect(report.int8Bytes).toBeLessThan(report.floatBytes / 2);
    expect(report.kernels.integer.QLinearConv).toBeGreaterThan(0);
    expect(report.agreement?.measure).toBe('pixel label agreement');
    expect(report.agreement!.value).toBeGreaterThan(0.98);
  }, 60_000);

  it('image-segmentation, dynamic: ≥ 98 % of pixel labels equal the float pipeline\'s', async () => {
    await using fp = await pipeline('image-segmentation');
    await using q = await pipeline('image-segmentation', { quantize: { mode: 'dynamic' } });
    for (const s of samples) {
      const [a, b] = [await fp(s), await q(s)];
      let same = 0;
      for (let i = 0; i < a.labels.length; i++) if (a.labels[i] === b.labels[i]) same++;
      expect(same / a.labels.length).toBeGreaterThanOrEqual(0.98);
    }
  }, 60_000);

  it('image-feature-extraction, static: every level within cosine 0.99 of float', async () => {
    await using fp = await pipeline('image-feature-extraction');
    await using q = await pipeline('image-feature-extraction', { quantize: { calibration: samples } });
    const [a, b] = [await fp(samples[0]), await q(samples[0])];
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) {
      const c = cosineSimilarity(a[k].data, b[k].data);
      console.log(`feature level ${k}: cosine ${c.toFixed(5)}`);
      expect(c).toBeGreaterThanOrEqual(0.99);
    }
  }, 60_000);

  it('object-detection, static: labels and boxes of confident detections agree', async () => {
    await using fp = await pipeline('object-detection');
    await using q = await pipeline('object-detection', { quantize: { calibration: samples } });
    for (const s of samples) {
      const a = (await fp(s, { threshold: 0.5 })).map((d) => d.label).sort();
      const b = (await q(s, { threshold: 0.5 })).map((d) => d.label).sort();
      expect(b).toEqual(a);
    }
  }, 60_000);

  it('refuses quantize with the tfjs engine', async () => {
    await expect(pipeline('image-segmentation', { engine: 'tfjs', quantize: { mode: 'dynamic' } })).rejects.toThrow(/runs on the ort engine/);
  });
});
