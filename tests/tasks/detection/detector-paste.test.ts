/**
 * Mask pasting against references (tools/fixtures/gen_det_units.py): mmdetection's
 * `_do_paste_mask` (grid_sample on the float box, skip-empty region) and torchvision's
 * `paste_masks_in_image` (28→30 padding, integer box, bilinear resize), for boxes inside, across
 * the border, tiny and sub-pixel wide, in a 42×56 image. Probabilities within 1e-5; the binary
 * masks (≥ 0.5) have IoU ≥ 0.99 (in practice equal). The engines' in-graph paste (mmdetection's)
 * gives the reference's binary masks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { pasteGridSample, pasteMask, pasteTorchvision, type ProbRegion, regionArea, regionToFull } from '../../../src/core/det/paste.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { FIXTURES } from '../../helpers.js';
import { runDet } from '../../heads/det-harness.js';

let ref: Map<string, HostTensor>;
beforeAll(async () => {
  ref = (await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'))).tensors;
});

const H = 42;
const W = 56;

function full(r: ProbRegion): Float32Array {
  const out = new Float32Array(H * W);
  for (let j = 0; j < r.height; j++) out.set(r.data.subarray(j * r.width, (j + 1) * r.width), (r.y0 + j) * W + r.x0);
  return out;
}

describe.each([
  { mode: 'grid_sample' as const, key: 'paste.mmdet', paste: pasteGridSample },
  { mode: 'torchvision' as const, key: 'paste.torchvision', paste: pasteTorchvision },
])('$mode paste', ({ mode, key, paste }) => {
  it('matches the reference', () => {
    const masks = ref.get('paste.masks')!;
    const boxes = ref.get('paste.boxes')!;
    const exp = ref.get(key)!;
    for (let i = 0; i < 8; i++) {
      const m = masks.data.subarray(784 * i, 784 * (i + 1));
      const box = Array.from(boxes.data.subarray(4 * i, 4 * i + 4));
      const e = exp.data.subarray(H * W * i, H * W * (i + 1));
      const probs = full(paste(m, 28, box, H, W));
      let err = 0;
      for (let p = 0; p < H * W; p++) err = Math.max(err, Math.abs(probs[p] - e[p]));
      expect(err, `mask ${i}`).toBeLessThanOrEqual(1e-5);
      const bin = regionToFull(pasteMask(mode, m, 28, box, H, W, 0.5), H, W);
      let inter = 0;
      let union = 0;
      for (let p = 0; p < H * W; p++) {
        const b = e[p] >= 0.5 ? 1 : 0;
        inter += bin[p] & b;
        union += bin[p] | b;
      }
      expect(union === 0 ? 1 : inter / union, `mask ${i} IoU`).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('a box outside the image pastes nothing; an empty mask pastes nothing', () => {
    const ones = new Float32Array(784).fill(1);
    const r = pasteMask(mode, ones, 28, [100, 100, 120, 130], H, W, 0.5);
    expect(regionArea(r)).toBe(0);
    expect(regionArea(pasteMask(mode, new Float32Array(784), 28, [5, 5, 20, 20], H, W, 0.5))).toBe(0);
  });

  it('a mask of ones fills its box (10…30 × 5…25) up to the edge pixels', () => {
    const r = pasteMask(mode, new Float32Array(784).fill(1), 28, [10, 5, 30, 25], H, W, 0.5);
    const m = regionToFull(r, H, W);
    // The box interior is set, pixels two away from it are not.
    expect(m[15 * W + 20]).toBe(1);
    expect(m[11 * W + 11]).toBe(1);
    expect(m[2 * W + 20]).toBe(0);
    expect(m[15 * W + 33]).toBe(0);
    expect(regionArea(r)).toBeGreaterThanOrEqual(20 * 20);
    expect(regionArea(r)).toBeLessThanOrEqual(22 * 22);
  });
});

describe.each(['ort', 'tfjs'] as const)('the in-graph paste (DetOps.pasteMasks) on %s', (engine) => {
  it('gives mmdetection\'s binary masks (≥ 0.5) for the reference boxes, into planes of a given size', async () => {
    const masks = ref.get('paste.masks')!;
    const boxes = ref.get('paste.boxes')!;
    const exp = ref.get('paste.mmdet')!;
    const out = await runDet(engine, {
      masks: { shape: [8, 1, 28, 28], data: masks.data.subarray(0, 8 * 784) },
      boxes: { shape: [8, 4], data: boxes.data.subarray(0, 32) },
      size: { shape: [2], data: Float32Array.from([H, W]) },
    }, (ops, x) => ({ pasted: ops.reshape(ops.pasteMasks(x.masks, x.boxes, x.size, 0.5), [8, H, W]) })); // [8, 1, H, W] as a rank-3 table
    expect(out.pasted.shape).toEqual([8, H, W]);
    // Separable bilinear weights (ort) round differently from grid_sample's taps only in the last
    // bits: a pixel may flip only where the reference probability lies within 1e-5 of 0.5.
    let flipped = 0;
    for (let p = 0; p < 8 * H * W; p++) {
      const want = exp.data[p] >= 0.5 ? 1 : 0;
      if (out.pasted.data[p] !== want) {
        flipped++;
        expect(Math.abs(exp.data[p] - 0.5), `pixel ${p}`).toBeLessThanOrEqual(1e-5);
      }
    }
    console.log(`in-graph paste on ${engine}: ${flipped} of ${8 * H * W} pixels differ from the reference's ≥ 0.5 mask`);
    if (engine === 'tfjs') expect(flipped).toBe(0);
  });
});
