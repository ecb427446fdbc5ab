/**
 * Training settings of Mask R-CNN (mmdetection 2.x `train_cfg` + the heads' losses), snake_case
 * like the model configs, with the defaults of mmdetection's mask_rcnn_r50_fpn (which the ConvNeXt
 * detection configs inherit): RPN assigner 0.7 / 0.3 / 0.3, sampler 256 × ½; proposals 2000 per
 * level before NMS 0.7, 1000 kept; RCNN assigner 0.5, sampler 512 × ¼ with ground truths as
 * proposals; 28 × 28 mask targets; L1 box losses, all loss weights 1.
 */
import { z } from 'zod';
import type { AssignerOptions, SamplerOptions } from './assign.js';

const posInt = z.number().int().positive();
const frac = z.number().min(0).max(1);

function assigner(pos: number, neg: number, min: number) {
  return z
    .object({
      pos_iou_thr: frac.default(pos),
      neg_iou_thr: frac.default(neg),
      min_pos_iou: frac.default(min),
      match_low_quality: z.boolean().default(true),
    })
    .strict()
    .prefault({});
}

function sampler(num: number, posFraction: number) {
  return z.object({ num: posInt.default(num), pos_fraction: frac.default(posFraction) }).strict().prefault({});
}

const boxLoss = z
  .object({
    type: z.enum(['l1', 'smooth_l1']).default('l1'),
    /** Smooth L1 β (mmdet 1.0; torchvision's RPN 1/9). */
    beta: z.number().positive().default(1),
    loss_weight: z.number().min(0).default(1),
  })
  .strict()
  .prefault({});

export const detTrainSchema = z
  .object({
    rpn: z
      .object({
        assigner: assigner(0.7, 0.3, 0.3),
        sampler: sampler(256, 0.5),
        loss_cls_weight: z.number().min(0).default(1),
        loss_bbox: boxLoss,
      })
      .strict()
      .prefault({}),
    rpn_proposal: z
      .object({
        nms_pre: posInt.default(2000),
        max_per_img: posInt.default(1000),
        iou_threshold: frac.default(0.7),
        min_bbox_size: z.number().min(0).default(0),
      })
      .strict()
      .prefault({}),
    rcnn: z
      .object({
        assigner: assigner(0.5, 0.5, 0.5),
        sampler: sampler(512, 0.25),
        add_gt_as_proposals: z.boolean().default(true),
        loss_cls_weight: z.number().min(0).default(1),
        loss_bbox: boxLoss,
        mask_size: posInt.default(28),
        loss_mask_weight: z.number().min(0).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type DetTrainConfig = z.output<typeof detTrainSchema>;
export type DetTrainConfigInput = z.input<typeof detTrainSchema>;

/** The mmdetection defaults. */
export function detTrainDefaults(): DetTrainConfig {
  return detTrainSchema.parse({});
}

export function assignerOptions(a: DetTrainConfig['rpn']['assigner']): AssignerOptions {
  return { posIouThr: a.pos_iou_thr, negIouThr: a.neg_iou_thr, minPosIou: a.min_pos_iou, matchLowQuality: a.match_low_quality };
}

export function samplerOptions(s: DetTrainConfig['rpn']['sampler'], addGt: boolean): SamplerOptions {
  return { num: s.num, posFraction: s.pos_fraction, addGtAsProposals: addGt };
}
