/**
 * The oracle test: torchvision 0.14's MaskRCNN (small ConvNeXt body, torchvision FPN, random
 * weights, eval mode; fixtures from tools/fixtures/gen_det.py) against our detector with the
 * torchvision conventions, on both engines and two input sizes (one padded). The weights are
 * torchvision's own state dict (.pth), read through src/io's key map. Tolerances: RPN
 * proposals and final boxes within 1e-2 px, scores within 1e-4, labels equal, 28×28 mask
 * probabilities within 1e-4, pasted masks with per-instance IoU ≥ 0.99.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../../src/core/engine.js';
import { bindWeights } from '../../../src/core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import type { DetectorConfig } from '../../../src/config/detector.js';
import { Detector } from '../../../src/tasks/detection/detector.js';
import { type DetectorRunner } from '../../../src/tasks/detection/detector-runner.js';
import { pasteMask, regionToFull } from '../../../src/core/det/paste.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { FIXTURES, loadIo } from '../../helpers.js';
import { cols, maxDiff } from '../../heads/det-harness.js';
import { createDetectorRunner } from '../../../src/tasks/detection/detector-engine.js';

const DIR = join(FIXTURES, 'det');
const CASES = ['64x96', '75x101'];
const runners: DetectorRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.dispose();
});

function unpackBits(bits: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bits[i >> 3] >> (7 - (i & 7))) & 1;
  return out;
}

describe.each(ENGINES)('Mask R-CNN vs torchvision on %s', (engine) => {
  it.each(CASES)('%s', async (size) => {
    const io = await loadIo(join(DIR, `tv_maskrcnn_${size}.io.safetensors`));
    const cfg = resolveConfig('test_mask-rcnn_convnext-narrow_tv') as DetectorConfig;
    const det = new Detector(cfg);
    const loaded = await loadWeights(join(DIR, 'tv_maskrcnn.pth'));
    expect(loaded.source).toBe('torchvision-maskrcnn');
    const { weights, report } = bindWeights(det.scope.registry, loaded.tensors);
    expect(report.unexpected).toEqual([]);
    const runner = await createDetectorRunner(engine, det, weights, { backend: 'wasm' });
    runners.push(runner);
    const [h, w] = size.split('x').map(Number);
    const out = await runner.run(io.input, [h, w]);
    const e = io.expected;

    // RPN proposals: same count, same order.
    expect(out.proposals.shape[0]).toBe(e.proposals.shape[0]);
    const propErr = maxDiff(cols(out.proposals, 0, 4), e.proposals.data);
    const propScoreErr = maxDiff(cols(out.proposals, 4, 5), e.proposal_scores.data);
    // Detections.
    const d = e.scores.shape[0];
    expect(out.dets.shape[0]).toBe(d);
    expect(Array.from(cols(out.dets, 5, 6))).toEqual(Array.from(e.labels.data));
    const boxErr = maxDiff(cols(out.dets, 0, 4), e.boxes.data);
    const scoreErr = maxDiff(cols(out.dets, 4, 5), e.scores.data);
    const maskErr = maxDiff(out.masks.data, e.mask_probs.data);
    // Pasted masks (torchvision's paste on our probabilities) against torchvision's masks > 0.5.
    const tvMasks = unpackBits(e.masks_bits.data, d * h * w);
    let minIou = 1;
    for (let i = 0; i < d; i++) {
      const box = Array.from(out.dets.data.subarray(6 * i, 6 * i + 4));
      const region = pasteMask('torchvision', out.masks.data.subarray(784 * i, 784 * (i + 1)), 28, box, h, w, 0.5);
      const ours = regionToFull(region, h, w);
      let inter = 0;
      let union = 0;
      for (let p = 0; p < h * w; p++) {
        const a = ours[p];
        const b = tvMasks[i * h * w + p];
        inter += a & b;
        union += a | b;
      }
      minIou = Math.min(minIou, union === 0 ? 1 : inter / union);
    }
    console.log(`${engine} ${size}: ${out.proposals.shape[0]} proposals (max err ${propErr.toExponential(2)} px, score ${propScoreErr.toExponential(2)}), `
      + `${d} detections (box ${boxErr.toExponential(2)} px, score ${scoreErr.toExponential(2)}, 28x28 mask ${maskErr.toExponential(2)}, min mask IoU ${minIou.toFixed(4)})`);
    expect(propErr).toBeLessThanOrEqual(1e-2);
    expect(propScoreErr).toBeLessThanOrEqual(1e-4);
    expect(boxErr).toBeLessThanOrEqual(1e-2);
    expect(scoreErr).toBeLessThanOrEqual(1e-4);
    expect(maskErr).toBeLessThanOrEqual(1e-4);
    expect(minIou).toBeGreaterThanOrEqual(0.99);
  });
});
