import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { MIoUAccumulator, nanMean, type LabelMap } from '../../src/eval/miou.js';
import { formatMIoU, mIoUToJson, textTable } from '../../src/eval/miou-format.js';

function map(rows: number[][]): LabelMap {
  return { data: Uint8Array.from(rows.flat()), width: rows[0].length, height: rows.length };
}

// Ground truth and prediction (3 classes, 255 = ignore):
//   gt                 pred
//   0   0 1 1          0 1 1 1
//   0   2 2 1          0 2 0 1
//   255 2 2 1          2 2 2 2
// The ignored pixel (pred 2) is dropped. Confusion matrix over the 11 other pixels
// (rows gt, columns pred):
//        p0 p1 p2   | label area
//   g0 [  2  1  0 ] | 3
//   g1 [  0  3  1 ] | 4
//   g2 [  1  0  3 ] | 4
//   pred area 3 4 4
// intersect = diag = (2, 3, 3); union = pred + label - intersect = (4, 5, 5)
// IoU = (2/4, 3/5, 3/5); Acc = (2/3, 3/4, 3/4); aAcc = 8/11
const GT = [
  [0, 0, 1, 1],
  [0, 2, 2, 1],
  [255, 2, 2, 1],
];
const PRED = [
  [0, 1, 1, 1],
  [0, 2, 0, 1],
  [2, 2, 2, 2],
];

describe('MIoUAccumulator', () => {
  it('matches a hand-computed confusion matrix with an ignored pixel', () => {
    const acc = new MIoUAccumulator(3);
    acc.add(map(PRED), map(GT));
    expect(Array.from(acc.areaIntersect)).toEqual([2, 3, 3]);
    expect(Array.from(acc.areaUnion)).toEqual([4, 5, 5]);
    expect(Array.from(acc.areaPred)).toEqual([3, 4, 4]);
    expect(Array.from(acc.areaLabel)).toEqual([3, 4, 4]);
    const r = acc.compute();
    expect(r.aAcc).toBeCloseTo(8 / 11, 15);
    expect(r.perClass.map((c) => c.iou)).toEqual([0.5, 0.6, 0.6]);
    expect(r.perClass[0].acc).toBeCloseTo(2 / 3, 15);
    expect(r.mIoU).toBeCloseTo((0.5 + 0.6 + 0.6) / 3, 15);
    expect(r.mAcc).toBeCloseTo((2 / 3 + 0.75 + 0.75) / 3, 15);
  });

  it('gives NaN for classes absent from prediction and ground truth and skips them in the means', () => {
    // Same maps, 5 classes: classes 3 and 4 never occur → 0/0 = NaN for IoU and Acc.
    const acc = new MIoUAccumulator(5, { classNames: ['a', 'b', 'c', 'd', 'e'] });
    acc.add(map(PRED), map(GT));
    const r = acc.compute();
    expect(r.perClass[3].iou).toBeNaN();
    expect(r.perClass[4].acc).toBeNaN();
    expect(r.perClass[3].name).toBe('d');
    expect(r.mIoU).toBeCloseTo(1.7 / 3, 15);
    expect(r.mAcc).toBeCloseTo((2 / 3 + 1.5) / 3, 15);
  });

  it('a class only predicted has IoU 0 (counted in mIoU) and Acc NaN', () => {
    // Change the prediction at (0,1) from 1 to 3: gt 0 / pred 3.
    // pred areas (3, 3, 4, 1), intersect (2, 3, 3, 0), label (3, 4, 4, 0)
    // union = (4, 4, 5, 1) → IoU (0.5, 0.75, 0.6, 0); Acc (2/3, 3/4, 3/4, NaN)
    const pred = PRED.map((r) => r.slice());
    pred[0][1] = 3;
    const acc = new MIoUAccumulator(4);
    acc.add(map(pred), map(GT));
    const r = acc.compute();
    expect(r.perClass.map((c) => c.iou)).toEqual([0.5, 0.75, 0.6, 0]);
    expect(r.perClass[3].acc).toBeNaN();
    expect(r.mIoU).toBeCloseTo((0.5 + 0.75 + 0.6 + 0) / 4, 15);
    expect(r.mAcc).toBeCloseTo((2 / 3 + 0.75 + 0.75) / 3, 15);
  });

  it('reduce_zero_label: 0 → 255 (ignored), others − 1, 255 stays ignored', () => {
    // Raw ADE-style ground truth: 0 = "other", classes are 1..3; shifting gives GT above
    // except the raw 0 pixel (at (2,0)) which becomes 255 → ignored, and a raw 255 stays 255.
    const raw = GT.map((r) => r.map((v) => (v === 255 ? 0 : v + 1)));
    raw[1][0] = 255; // was class 0 → now ignored too: drops pair (g0, p0)
    const acc = new MIoUAccumulator(3, { reduceZeroLabel: true });
    acc.add(map(PRED), map(raw));
    // Compared with the first test, (g0,p0) at (1,0) is gone: intersect (1,3,3),
    // pred (2,4,4), label (2,4,4), union (3,5,5).
    expect(Array.from(acc.areaIntersect)).toEqual([1, 3, 3]);
    expect(Array.from(acc.areaUnion)).toEqual([3, 5, 5]);
    expect(acc.compute().aAcc).toBeCloseTo(7 / 10, 15);
  });

  it('applies labelMap before reduce_zero_label', () => {
    // labelMap 7 → 1; then reduce: 1 → 0.
    const acc = new MIoUAccumulator(2, { labelMap: new Map([[7, 1]]), reduceZeroLabel: true });
    acc.add(map([[0, 0]]), map([[7, 2]]));
    // gt after: (0, 1); pred (0, 0) → intersect (1, 0), label (1, 1), pred (2, 0)
    expect(Array.from(acc.areaIntersect)).toEqual([1, 0]);
    expect(Array.from(acc.areaLabel)).toEqual([1, 1]);
    expect(Array.from(acc.areaPred)).toEqual([2, 0]);
  });

  it('uses a custom ignore index, and predictions outside 0..C-1 fall in no bin (torch.histc)', () => {
    const acc = new MIoUAccumulator(2, { ignoreIndex: 9 });
    // pairs (gt,pred): (0,0) (1,5) (9,1 ignored) (255,0: 255 is a label outside the bins)
    acc.add(map([[0, 5, 1, 0]]), map([[0, 1, 9, 255]]));
    expect(Array.from(acc.areaLabel)).toEqual([1, 1]);
    expect(Array.from(acc.areaPred)).toEqual([2, 0]);
    expect(Array.from(acc.areaIntersect)).toEqual([1, 0]);
    // aAcc = 1 / 2 (the label 255 pixel is in no bin)
    expect(acc.compute().aAcc).toBe(0.5);
  });

  it('accumulates areas over images (dataset-level IoU, not a mean of per-image IoUs)', () => {
    const acc = new MIoUAccumulator(2);
    acc.add(map([[0, 0, 1, 1]]), map([[0, 0, 0, 0]])); // I (2,0) P (2,2) L (4,0)
    acc.add(map([[1]]), map([[1]])); //                    I (0,1) P (0,1) L (0,1)
    // totals: I (2,1), P (2,3), L (4,1), U (4,3) → IoU (0.5, 1/3)
    const r = acc.compute();
    expect(r.perClass[0].iou).toBe(0.5);
    expect(r.perClass[1].iou).toBeCloseTo(1 / 3, 15);
    expect(r.aAcc).toBe(3 / 5);
    expect(acc.count).toBe(2);
    acc.reset();
    expect(Number.isNaN(acc.compute().aAcc)).toBe(true);
  });

  it('throws a UserError naming both sizes and the file on a size mismatch', () => {
    const acc = new MIoUAccumulator(3);
    const pred = { data: new Uint8Array(6), width: 3, height: 2 };
    const gt = { data: new Uint8Array(8), width: 4, height: 2 };
    expect(() => acc.add(pred, gt, 'annotations/x.png')).toThrow(UserError);
    expect(() => acc.add(pred, gt, 'annotations/x.png')).toThrow(
      'annotations/x.png: label map is 4x2 (WxH) but the prediction is 3x2',
    );
    expect(() => acc.add({ data: new Uint8Array(5), width: 4, height: 2 }, gt)).toThrow(
      'prediction has 5 values, expected 4x2',
    );
  });

  it('rejects class-name count mismatches', () => {
    expect(() => new MIoUAccumulator(2, { classNames: ['a'] })).toThrow(UserError);
  });

  it('nanMean skips NaN and is NaN when nothing is left', () => {
    expect(nanMean([1, NaN, 2])).toBe(1.5);
    expect(nanMean([NaN])).toBeNaN();
  });
});

describe('mIoU formatting', () => {
  it('prints mmseg-style percentages in PrettyTable layout', () => {
    const acc = new MIoUAccumulator(4, { classNames: ['wall', 'sky', 'road', 'tree'] });
    acc.add(map(PRED), map(GT));
    const text = formatMIoU(acc.compute());
    // IoU 0.5 → 50.0, 0.6 → 60.0, Acc 2/3 → 66.67, absent class → nan;
    // aAcc 8/11 → 72.73, mIoU 1.7/3 → 56.67, mAcc → 72.22
    expect(text).toBe(
      [
        'per class results:',
        '+-------+------+-------+',
        '| Class | IoU  |  Acc  |',
        '+-------+------+-------+',
        '|  wall | 50.0 | 66.67 |',
        '|  sky  | 60.0 |  75.0 |',
        '|  road | 60.0 |  75.0 |',
        '|  tree | nan  |  nan  |',
        '+-------+------+-------+',
        'Summary:',
        '+-------+-------+-------+',
        '|  aAcc |  mIoU |  mAcc |',
        '+-------+-------+-------+',
        '| 72.73 | 56.67 | 72.22 |',
        '+-------+-------+-------+',
      ].join('\n'),
    );
    const json = mIoUToJson(acc.compute());
    expect(json.mIoU).toBe(56.67);
    expect(json.perClass[3]).toEqual({ class: 'tree', IoU: null, Acc: null });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('centres like PrettyTable (odd slack goes right for odd-length text, left for even)', () => {
    expect(textTable(['ab'], [['abc']])).toBe('+-----+\n|  ab |\n+-----+\n| abc |\n+-----+');
  });
});
