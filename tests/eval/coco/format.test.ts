import { describe, expect, it } from 'vitest';
import { evaluateCoco } from '../../../src/eval/coco/cocoeval.js';
import { parseCocoDataset, prepareDetections } from '../../../src/io/coco/dataset.js';
import { cocoResultToJson, formatCocoPerCategory, formatCocoSummary } from '../../../src/eval/coco/format.js';

// One small box (area 100) found exactly; category "b" has no ground truth.
const gt = parseCocoDataset({
  images: [{ id: 1, width: 50, height: 50 }],
  categories: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }],
  annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 }],
}, 'g.json');
const res = evaluateCoco(gt, prepareDetections([{ image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 1 }], gt), 'bbox');

describe('COCO summary formatting', () => {
  it('prints the 12 lines like pycocotools, −1 as -1.000', () => {
    const lines = formatCocoSummary(res).split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000');
    expect(lines[4]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000');
    expect(lines[6]).toBe(' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000');
    expect(lines[1]).toBe(' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000');
  });

  it('per-category table (nan where a category has no ground truth) and JSON', () => {
    expect(formatCocoPerCategory(res)).toBe([
      '+----------+-------+--------+--------+-------+-------+-------+',
      '| category |  mAP  | mAP_50 | mAP_75 | mAP_s | mAP_m | mAP_l |',
      '+----------+-------+--------+--------+-------+-------+-------+',
      '|    a     | 1.000 | 1.000  | 1.000  | 1.000 |  nan  |  nan  |',
      '|    b     |  nan  |  nan   |  nan   |  nan  |  nan  |  nan  |',
      '+----------+-------+--------+--------+-------+-------+-------+',
    ].join('\n'));
    const json = cocoResultToJson(res);
    expect(json.iouType).toBe('bbox');
    expect(json.stats.APm).toBe(-1);
    expect(json.stats.AR100).toBe(1);
    expect(json.perCategory[1]).toMatchObject({ id: 2, name: 'b', ap: -1 });
  });
});
