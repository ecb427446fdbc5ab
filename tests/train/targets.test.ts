/**
 * RPN, RCNN and mask targets on hand-worked cases.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareTraining } from '../../src/core/tfjs/grad/index.js';
import { maskTargets, rcnnTargets, rpnTargets, type GtInstances } from '../../src/train/det/targets.js';
import { TrainRng } from '../../src/data/rng.js';

const MMDET_RPN = { type: 'mmdet' as const, means: [0, 0, 0, 0] as const, stds: [1, 1, 1, 1] as const, clip: 4.135 };
const MMDET_RCNN = { type: 'mmdet' as const, means: [0, 0, 0, 0] as const, stds: [0.1, 0.1, 0.2, 0.2] as const, clip: 4.135 };

function square(h: number, w: number, x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m[y * w + x] = 1;
  return m;
}

function gt(boxes: number[], labels: number[], h = 40, w = 40): GtInstances {
  const masks = labels.map((_, i) => square(h, w, boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]));
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), masks, maskHeight: h, maskWidth: w };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await prepareTraining();
});

describe('rpnTargets', () => {
  it('labels, weights and deltas of anchors against one ground truth', () => {
    // Anchors: exact match (IoU 1 → positive, deltas 0), half overlap (1/3 → ignored), far (negative).
    const anchors = Float32Array.from([0, 0, 10, 10, 5, 0, 15, 10, 30, 30, 40, 40]);
    const t = rpnTargets(anchors, gt([0, 0, 10, 10], [2]), { posIouThr: 0.7, negIouThr: 0.3, minPosIou: 0.3, matchLowQuality: true },
      { num: 256, posFraction: 0.5, addGtAsProposals: false }, MMDET_RPN, new TrainRng(0));
    expect(Array.from(t.labels)).toEqual([1, 0, 0]);
    expect(Array.from(t.labelWeights)).toEqual([1, 0, 1]);
    expect(Array.from(t.bboxWeights)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(t.bboxTargets.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect([t.numPos, t.numNeg]).toEqual([1, 1]);
  });
});

describe('rcnnTargets', () => {
  it('ground truths join the proposals; positives first with their classes and deltas, negatives background', () => {
    // gt [0,0,20,20] class 3; proposals: [0,0,20,10] (IoU 0.5 → positive), [30,30,39,39] (negative).
    const t = rcnnTargets(Float32Array.from([0, 0, 20, 10, 30, 30, 39, 39]), gt([0, 0, 20, 20], [3]),
      { posIouThr: 0.5, negIouThr: 0.5, minPosIou: 0.5, matchLowQuality: true }, { num: 512, posFraction: 0.25, addGtAsProposals: true }, MMDET_RCNN, new TrainRng(0));
    // Candidates [gt, p0, p1]: positives 0 (the gt itself) and 1, negative 2.
    expect(t.numPos).toBe(2);
    expect(Array.from(t.rois)).toEqual([0, 0, 20, 20, 0, 0, 20, 10, 30, 30, 39, 39]);
    expect(Array.from(t.labels)).toEqual([3, 3, -1]);
    // gt vs itself: zero deltas. p0 centre (10, 5) 20x10 vs gt centre (10, 10) 20x20:
    // dy = (10 − 5) / 10 / 0.1 = 5, dh = ln(2) / 0.2.
    expect(Array.from(t.bboxTargets.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(t.bboxTargets[4]).toBeCloseTo(0, 6);
    expect(t.bboxTargets[5]).toBeCloseTo(5, 5);
    expect(t.bboxTargets[6]).toBeCloseTo(0, 6);
    expect(t.bboxTargets[7]).toBeCloseTo(Math.log(2) / 0.2, 5);
  });
});

describe('maskTargets', () => {
  it('a box equal to the mask gives an all-ones 28x28 target; the left half of a box gives half', () => {
    const g = gt([4, 4, 32, 32], [0]);
    const full = maskTargets(Float32Array.from([4, 4, 32, 32]), Int32Array.from([0]), g);
    expect(full.every((v) => v === 1)).toBe(true);
    // Box [4, 4, 60, 32] (clipped to the 40-wide mask: [4, 4, 40, 32], 36 wide): the mask covers x < 32,
    // i.e. the first 28/36 of the width → columns whose sample centre lies inside: 28 · 28/36 ≈ 21.8.
    const part = maskTargets(Float32Array.from([4, 4, 60, 32]), Int32Array.from([0]), g);
    const row = Array.from(part.subarray(14 * 28, 15 * 28));
    expect(row.slice(0, 21).every((v) => v === 1)).toBe(true);
    expect(row.slice(23).every((v) => v === 0)).toBe(true);
  });
});
