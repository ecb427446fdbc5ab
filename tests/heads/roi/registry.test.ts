/**
 * The RoI head registry: a detector's `roi_head` is any registered RoI head, by `type` (unset: the
 * model type's own, 'standard' for Mask R-CNN and 'cascade' for Cascade Mask R-CNN); option
 * typos and cross-field rules fail at parse time with their path; the built head declares its
 * stages (box head, mask head, coder, loss weight), which training reads.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../configs/index.js';
import { isDetectorConfig } from '../../../src/config/detector.js';
import { ROI_HEADS } from '../../../src/heads/roi/index.js';
import { Detector } from '../../../src/tasks/detection/detector.js';

const MASK = 'test_mask-rcnn_convnext-narrow_mmdet';
const CASCADE = 'test_cascade-mask-rcnn_convnext-narrow';

function detector(name: string, set: string[] = []): Detector {
  const cfg = resolveConfig(name, set);
  if (!isDetectorConfig(cfg)) throw new Error(`${name} is not a detector`);
  return new Detector(cfg);
}

describe('RoI head registry', () => {
  it('has the standard and cascade heads; an unset type is the model type\'s', () => {
    expect(ROI_HEADS.types()).toEqual(['cascade', 'standard']);
    const m = resolveConfig(MASK);
    const c = resolveConfig(CASCADE);
    expect(isDetectorConfig(m) && m.roi_head.type).toBe('standard');
    expect(isDetectorConfig(c) && c.roi_head.type).toBe('cascade');
  });

  it('reports unknown types, typos and cross-field rules at their path', () => {
    expect(() => resolveConfig(MASK, ['roi_head.type="cascde"'])).toThrow(/roi_head\.type: unknown type "cascde": expected one of 'cascade', 'standard'/);
    expect(() => resolveConfig(MASK, ['roi_head.bbox_head.num_shared_fc=1'])).toThrow(/roi_head\.bbox_head: unknown key\(s\) 'num_shared_fc'/);
    expect(() => resolveConfig(CASCADE, ['roi_head.bbox_head=[{},{}]'])).toThrow(/roi_head\.bbox_head: 2 box heads for 3 stages/);
    expect(() => resolveConfig(CASCADE, ['roi_head.stage_loss_weights=[1,0.5]'])).toThrow(/roi_head\.stage_loss_weights: 2 weights for 3 stages/);
  });

  it('the built heads declare their stages: coders with the stage stds, loss weights, parameters per stage', () => {
    const m = detector(MASK);
    expect(m.roiHead.stages).toHaveLength(1);
    expect(m.roiHead.stages[0].lossWeight).toBe(1);
    const c = detector(CASCADE, ['roi_head.stage_loss_weights=[1,0.4,0.2]']);
    expect(c.roiHead.stages.map((s) => s.lossWeight)).toEqual([1, 0.4, 0.2]);
    expect(c.roiHead.stages.map((s) => (s.coder.type === 'mmdet' ? s.coder.stds : null))).toEqual([[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]);
    // A Mask R-CNN config may name the cascade head (as mmdetection configs swap `roi_head`).
    const swapped = detector(MASK, ['roi_head.type="cascade"', 'roi_head.num_stages=2']);
    expect(swapped.roiHead.stages).toHaveLength(2);
    expect(swapped.scope.registry.get('roi_head.bbox_head.1.fc_cls.weight')).toBeDefined();
    expect(swapped.scope.registry.get('roi_head.mask_head.1.conv_logits.weight')).toBeDefined();
  });
});
