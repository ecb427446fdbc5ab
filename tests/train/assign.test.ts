/**
 * Box IoU, delta encoding, MaxIoUAssigner and RandomSampler (mmdetection 2.x semantics) on
 * hand-worked cases; the reasoning is written next to each expectation.
 */
import { describe, expect, it } from 'vitest';
import { assignWrtOverlaps, maxIouAssign, randomSample } from '../../src/train/det/assign.js';
import { iouMatrix } from '../../src/train/det/boxes.js';
import { decodeBox, encodeBoxes } from '../../src/core/det/coder-host.js';
import { TrainRng } from '../../src/data/rng.js';

const RPN = { posIouThr: 0.7, negIouThr: 0.3, minPosIou: 0.3, matchLowQuality: true };

describe('iouMatrix', () => {
  it('matches hand-computed overlaps (no +1 on sides, union clamped at 1e-6)', () => {
    // a = [0,0,10,10] (area 100); b1 = [5,0,15,10] overlaps 5x10 = 50 → 50 / (100 + 100 − 50) = 1/3;
    // b2 = [0,0,10,10] identical → 1; b3 disjoint → 0; b4 degenerate point box → 0 / max(0 + 100 − 0, ε) = 0.
    const iou = iouMatrix([0, 0, 10, 10], [5, 0, 15, 10, 0, 0, 10, 10, 20, 20, 30, 30, 3, 3, 3, 3]);
    expect(Array.from(iou)).toEqual([Math.fround(1 / 3), 1, 0, 0]);
  });
});

describe('encodeBoxes / decodeBox', () => {
  it('mmdet bbox2delta with stds (0.1, 0.1, 0.2, 0.2) and its inverse', () => {
    // proposal centre (5, 5), 10x10; target centre (7, 4), 20x5:
    // dx = 2/10 / 0.1 = 2, dy = −1/10 / 0.1 = −1, dw = ln 2 / 0.2, dh = ln 0.5 / 0.2.
    const coder = { type: 'mmdet' as const, means: [0, 0, 0, 0] as const, stds: [0.1, 0.1, 0.2, 0.2] as const, clip: Math.abs(Math.log(16 / 1000)) };
    const d = encodeBoxes([0, 0, 10, 10], [-3, 1.5, 17, 6.5], coder);
    expect(d[0]).toBeCloseTo(2, 5);
    expect(d[1]).toBeCloseTo(-1, 5);
    expect(d[2]).toBeCloseTo(Math.log(2) / 0.2, 5);
    expect(d[3]).toBeCloseTo(Math.log(0.5) / 0.2, 5);
    const back = decodeBox(d, [0, 0, 10, 10], coder);
    [-3, 1.5, 17, 6.5].forEach((v, i) => expect(back[i]).toBeCloseTo(v, 4));
  });

  it('torchvision weights (10, 10, 5, 5) give the same deltas', () => {
    const tv = encodeBoxes([0, 0, 10, 10], [-3, 1.5, 17, 6.5], { type: 'torchvision', weights: [10, 10, 5, 5], clip: Math.log(1000 / 16) });
    expect(tv[0]).toBeCloseTo(2, 5);
    expect(tv[2]).toBeCloseTo(Math.log(2) * 5, 5);
  });
});

describe('MaxIoUAssigner', () => {
  it('negatives, positives, ignored in between (RPN thresholds)', () => {
    // One ground truth [0,0,10,10]. Boxes: identical (IoU 1 → positive), shifted by 5 (IoU 1/3 →
    // between 0.3 and 0.7 → ignored −1), far away (IoU 0 → negative 0).
    const a = maxIouAssign(Float32Array.from([0, 0, 10, 10, 5, 0, 15, 10, 50, 50, 60, 60]), Float32Array.from([0, 0, 10, 10]), RPN);
    expect(Array.from(a.gtInds)).toEqual([1, -1, 0]);
    expect(a.maxOverlaps[1]).toBeCloseTo(1 / 3, 6);
  });

  it('low-quality matches: each gt takes its best boxes (all ties) when IoU ≥ min_pos_iou', () => {
    // Overlaps [G=2, N=4] (rows: gts). Box 0: best IoU 0.5 (gt 0) → ignored by thresholds; but gt 0's
    // maximum is 0.5 ≥ 0.3 at boxes 0 and 2 (a tie) → both become gt 1 (index + 1). gt 1's maximum
    // 0.25 < 0.3 → no low-quality match, so box 3 (0.25) stays negative (< 0.3). Box 1: 0.8 with gt 1
    // → positive 2.
    const ov = Float32Array.from([
      0.5, 0.1, 0.5, 0.0,
      0.2, 0.8, 0.1, 0.25,
    ]);
    const a = assignWrtOverlaps(ov, 2, 4, RPN);
    expect(Array.from(a.gtInds)).toEqual([1, 2, 1, 0]);
    // gt 1's own best (box 1, 0.8) — and without low-quality matching, 0.5 stays ignored.
    const plain = assignWrtOverlaps(ov, 2, 4, { ...RPN, matchLowQuality: false });
    expect(Array.from(plain.gtInds)).toEqual([-1, 2, -1, 0]);
  });

  it('low-quality matching overrides a better gt (mmdet order: step 4 after step 3)', () => {
    // Box 0 has 0.9 with gt 0 and 0.8 with gt 1; gt 1's best box is box 0 → box 0 ends up with gt 1.
    const a = assignWrtOverlaps(Float32Array.from([0.9, 0.1, 0.8, 0.0]), 2, 2, RPN);
    expect(Array.from(a.gtInds)).toEqual([2, 0]);
  });

  it('no ground truth: every box negative; no boxes: empty', () => {
    expect(Array.from(maxIouAssign(Float32Array.from([0, 0, 1, 1]), new Float32Array(0), RPN).gtInds)).toEqual([0]);
    expect(maxIouAssign(new Float32Array(0), Float32Array.from([0, 0, 1, 1]), RPN).gtInds.length).toBe(0);
  });
});

describe('RandomSampler', () => {
  it('takes every candidate (sorted) when there are fewer than wanted', () => {
    const a = { numGts: 1, gtInds: Int32Array.from([0, 1, -1, 0, 1]), maxOverlaps: new Float32Array(5) };
    const s = randomSample(a, new Float32Array(20), Float32Array.from([0, 0, 1, 1]), { num: 8, posFraction: 0.5, addGtAsProposals: false }, new TrainRng(1));
    // positives 1 and 4 (≤ 4 wanted), negatives fill 8 − 2 = 6 slots but only 0 and 3 exist.
    expect(Array.from(s.posInds)).toEqual([1, 4]);
    expect(Array.from(s.negInds)).toEqual([0, 3]);
    expect(Array.from(s.posGtInds)).toEqual([0, 0]);
  });

  it('caps positives at num · pos_fraction and fills the rest with negatives', () => {
    // 10 positives, 100 negatives, num 16, fraction 0.25 → int(4) positives, 12 negatives, distinct, sorted.
    const gtInds = Int32Array.from({ length: 110 }, (_, i) => (i < 10 ? 1 : 0));
    const s = randomSample({ numGts: 1, gtInds, maxOverlaps: new Float32Array(110) }, new Float32Array(440), Float32Array.from([0, 0, 1, 1]),
      { num: 16, posFraction: 0.25, addGtAsProposals: false }, new TrainRng(7));
    expect(s.posInds.length).toBe(4);
    expect(s.negInds.length).toBe(12);
    expect(new Set(s.negInds).size).toBe(12);
    expect([...s.posInds].every((i) => i < 10)).toBe(true);
    expect([...s.negInds].every((i) => i >= 10)).toBe(true);
    expect([...s.posInds]).toEqual([...s.posInds].sort((x, y) => x - y));
    // Same generator state → same sample; the generator's state is what a checkpoint stores.
    const again = randomSample({ numGts: 1, gtInds, maxOverlaps: new Float32Array(110) }, new Float32Array(440), Float32Array.from([0, 0, 1, 1]),
      { num: 16, posFraction: 0.25, addGtAsProposals: false }, new TrainRng(7));
    expect(Array.from(again.negInds)).toEqual(Array.from(s.negInds));
  });

  it('prepends ground truths as proposals assigned to themselves (RCNN)', () => {
    // Two gts, one proposal assigned negative: boxes become [gt0, gt1, proposal], gt_inds [1, 2, 0].
    const gts = Float32Array.from([0, 0, 10, 10, 20, 20, 30, 30]);
    const s = randomSample({ numGts: 2, gtInds: Int32Array.from([0]), maxOverlaps: new Float32Array(1) }, Float32Array.from([40, 40, 50, 50]), gts,
      { num: 512, posFraction: 0.25, addGtAsProposals: true }, new TrainRng(0));
    expect(Array.from(s.boxes)).toEqual([0, 0, 10, 10, 20, 20, 30, 30, 40, 40, 50, 50]);
    expect(Array.from(s.posInds)).toEqual([0, 1]);
    expect(Array.from(s.posGtInds)).toEqual([0, 1]);
    expect(Array.from(s.negInds)).toEqual([2]);
    expect(Array.from(s.gtFlags)).toEqual([1, 1, 0]);
  });
});
