/**
 * The RPN head registry: a detector's `rpn_head` is any registered RPN head by `type` ('rpn' when
 * unset); typos fail at parse time with their path; the built head applies its config's anchor,
 * coder and test settings over the convention profile's, one anchor grid per pyramid level.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../configs/index.js';
import { isDetectorConfig, MMDET_CONVENTIONS } from '../../../src/config/detector.js';
import { RPN_HEADS } from '../../../src/heads/rpn/index.js';
import { Detector } from '../../../src/tasks/detection/detector.js';

const MASK = 'test_mask-rcnn_convnext-narrow_mmdet';

function detector(set: string[] = []): Detector {
  const cfg = resolveConfig(MASK, set);
  if (!isDetectorConfig(cfg)) throw new Error('not a detector');
  return new Detector(cfg);
}

describe('RPN head registry', () => {
  it('parses by type (rpn when unset), with typos at their path', () => {
    expect(RPN_HEADS.types()).toEqual(['rpn']);
    const c = resolveConfig(MASK);
    expect(isDetectorConfig(c) && c.rpn_head.type).toBe('rpn');
    expect(() => resolveConfig(MASK, ['rpn_head.type="rpm"'])).toThrow(/rpn_head\.type: unknown type "rpm": expected one of 'rpn'/);
    expect(() => resolveConfig(MASK, ['rpn_head.test.nms_pr=10'])).toThrow(/rpn_head\.test: unknown key\(s\) 'nms_pr'/);
  });

  it('applies its settings over the profile: anchors per level, coder, test values', () => {
    const plain = detector();
    expect(plain.rpnHead.anchorGrids.map((g) => g.stride)).toEqual(plain.neck.outSpecs.map((s) => s.stride));
    expect(plain.rpnHead.anchorGrids[0].base).toHaveLength(MMDET_CONVENTIONS.anchors.ratios.length);
    expect(plain.rpnHead.coder).toEqual(MMDET_CONVENTIONS.rpnCoder);
    const set = detector(['rpn_head.anchor_generator.ratios=[0.5,1,2,4]', 'rpn_head.anchor_generator.scales=[4,8]', 'rpn_head.test.nms_pre=77', 'rpn_head.bbox_coder={"type":"mmdet","stds":[0.5,0.5,1,1]}']);
    expect(set.rpnHead.anchorGrids[0].base).toHaveLength(8);
    expect(set.rpnHead.proposalOptions.nmsPre).toBe(77);
    expect(set.rpnHead.coder).toEqual({ type: 'mmdet', means: [0, 0, 0, 0], stds: [0.5, 0.5, 1, 1], clip: MMDET_CONVENTIONS.rpnCoder.clip });
    // rpn_cls has one output channel per anchor.
    expect(set.scope.registry.get('rpn_head.rpn_cls.weight')!.shape[0]).toBe(8);
  });
});
