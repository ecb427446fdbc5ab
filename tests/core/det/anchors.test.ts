/**
 * Anchors against references (tools/fixtures/gen_det_units.py): mmdetection's AnchorGenerator
 * (strides 4…64, scale 8, ratios 0.5/1/2, centre offset 0 and 0.5) and torchvision's
 * AnchorGenerator (sizes 32…512, rounded, stride = padded size // grid size: 48×64 for the 2×2
 * p6 of a 96×128 input). Anchors are exact in both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { anchorGridSpecs, baseAnchors, roundHalfEven } from '../../../src/core/det/anchors.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { FIXTURES } from '../../helpers.js';
import { maxDiff, runDet } from '../../heads/det-harness.js';

let ref: Map<string, HostTensor>;
beforeAll(async () => {
  ref = (await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'))).tensors;
});

const GRIDS: Array<[number, number]> = [[24, 32], [12, 16], [6, 8], [3, 4], [2, 2]];
const STRIDES = [4, 8, 16, 32, 64];
const VARIANTS = [
  { name: 'mmdet', round: false, centerOffset: 0, strideMode: 'nominal' as const },
  { name: 'mmdet_offset', round: false, centerOffset: 0.5, strideMode: 'nominal' as const },
  { name: 'torchvision', round: true, centerOffset: 0, strideMode: 'input_over_feature' as const },
];

describe('base anchors', () => {
  it('rounds half to even as torch.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
  });
  it('mmdetection stride 4: 32 px squares and the √2 rectangles', () => {
    const b = baseAnchors(4, { strides: [4], ratios: [0.5, 1, 2], scales: [8], round: false, centerOffset: 0, strideMode: 'nominal' });
    // ratio 1: w = h = 4·8 = 32 → [−16, −16, 16, 16]; ratio 0.5: w = 32·√2, h = 32/√2.
    expect(b[1]).toEqual([-16, -16, 16, 16]);
    expect(b[0][2]).toBeCloseTo(16 * Math.SQRT2, 4);
    expect(b[0][3]).toBeCloseTo(16 / Math.SQRT2, 4);
  });
});

describe.each(ENGINES)('grid anchors on %s', (engine) => {
  it.each(VARIANTS)('$name', async (v) => {
    const specs = anchorGridSpecs({ strides: STRIDES, ratios: [0.5, 1, 2], scales: [8], ...v });
    const inputs: Record<string, HostTensor> = { image: { shape: [1, 1, 96, 128], data: new Float32Array(96 * 128) } };
    GRIDS.forEach(([h, w], i) => (inputs[`f${i}`] = { shape: [1, 1, h, w], data: new Float32Array(h * w) }));
    const out = await runDet(engine, inputs, (ops, x) => ({
      anchors: ops.concatRows(specs.map((s, i) => ops.gridAnchors(x[`f${i}`], x.image, s))),
    }));
    const exp = ref.get(`anchors.${v.name}`)!;
    expect(out.anchors.shape).toEqual(exp.shape);
    expect(maxDiff(out.anchors.data, exp.data)).toBe(0);
  });
});
