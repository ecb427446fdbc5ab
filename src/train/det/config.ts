/**
 * Training settings of Mask R-CNN and Cascade R-CNN (mmdetection 2.x `train_cfg` + the heads' losses), snake_case
 * like the model configs, with the defaults of mmdetection's mask_rcnn_r50_fpn (which the ConvNeXt
 * detection configs inherit): RPN assigner 0.7 / 0.3 / 0.3, sampler 256 × ½; proposals 2000 per
 * level before NMS 0.7, 1000 kept; RCNN assigner 0.5, sampler 512 × ¼ with ground truths as
 * proposals; 28 × 28 mask targets; L1 box losses, all loss weights 1. Cascade R-CNN stages have
 * their own assigners and box losses (`cascade_stages`), and keep 2000 proposals.
 */
import { z } from 'zod';
import type { AssignerOptions, SamplerOptions } from './assign.js';

const posInt = z.number().int().positive();
const frac = z.number().min(0).max(1);

function assigner(pos: number, neg: number, min: number, lowQuality = true) {
  return z
    .object({
      pos_iou_thr: frac.default(pos),
      neg_iou_thr: frac.default(neg),
      min_pos_iou: frac.default(min),
      match_low_quality: z.boolean().default(lowQuality),
    })
    .strict()
    .prefault({});
}

function sampler(num: number, posFraction: number) {
  return z.object({ num: posInt.default(num), pos_fraction: frac.default(posFraction) }).strict().prefault({});
}

function boxLossSchema<K extends 'l1' | 'smooth_l1' | 'giou'>(types: readonly [K, ...K[]], type: K, weight: number) {
  return z
    .object({
      type: z.enum(types).default(type),
      /** Smooth L1 β (mmdet 1.0; torchvision's RPN 1/9). */
      beta: z.number().positive().default(1),
      loss_weight: z.number().min(0).default(weight),
    })
    .strict()
    .prefault({});
}
/** Losses on deltas (RPN, Mask R-CNN). */
const boxLoss = boxLossSchema(['l1', 'smooth_l1'], 'l1', 1);

/**
 * One Cascade R-CNN stage's training settings (mmdetection `train_cfg.rcnn[s]` and the stage's
 * `loss_bbox`): the official ConvNeXt Cascade configs assign at IoU 0.5 / 0.6 / 0.7 without
 * low-quality matches and regress decoded boxes with GIoU (weight 10).
 */
const cascadeStageSchema = z
  .object({
    assigner: z
      .object({ pos_iou_thr: frac, neg_iou_thr: frac.optional(), min_pos_iou: frac.optional(), match_low_quality: z.boolean().default(false) })
      .strict(),
    /** 'giou' compares boxes, so it needs `reg_decoded_bbox`. */
    loss_bbox: boxLossSchema(['l1', 'smooth_l1', 'giou'], 'giou', 10),
    /** Regress decoded boxes against the ground-truth boxes (mmdetection `reg_decoded_bbox`). */
    reg_decoded_bbox: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.loss_bbox.type === 'giou' && !c.reg_decoded_bbox) {
      ctx.addIssue({ code: 'custom', path: ['loss_bbox', 'type'], message: "'giou' needs reg_decoded_bbox: true (it compares boxes, not deltas)" });
    }
  });

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
        /** Proposals kept per image; unset: 1000 (Mask R-CNN) or 2000 (Cascade R-CNN). */
        max_per_img: posInt.optional(),
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
    /**
     * Cascade R-CNN: one entry per stage (assigner, box loss); unset: IoU 0.5 + 0.1·s, GIoU 10 on
     * decoded boxes. Sampler, class and mask losses come from `rcnn`.
     */
    cascade_stages: z.array(cascadeStageSchema).optional(),
  })
  .strict();

/** A box loss config of any stage (GIoU only where boxes are decoded). */
export type BoxLossConfig = z.output<typeof boxLoss> | CascadeStageTrainConfig['loss_bbox'];
export type CascadeStageTrainConfig = z.output<typeof cascadeStageSchema>;

export type DetTrainConfig = z.output<typeof detTrainSchema>;
export type DetTrainConfigInput = z.input<typeof detTrainSchema>;

/** The training settings of each Cascade stage (`n` stages): given, or the official ConvNeXt Cascade defaults. */
export function cascadeStages(cfg: DetTrainConfig, n: number): CascadeStageTrainConfig[] {
  const given = cfg.cascade_stages;
  if (given && given.length !== n) throw new Error(`det_train.cascade_stages: ${given.length} stages for a ${n}-stage cascade`);
  return given ?? Array.from({ length: n }, (_, s) => cascadeStageSchema.parse({ assigner: { pos_iou_thr: Math.round((0.5 + 0.1 * s) * 10) / 10 } }));
}

/** Assigner options of a cascade stage (negative and minimum-positive thresholds default to the positive one). */
export function cascadeAssigner(a: CascadeStageTrainConfig['assigner']): AssignerOptions {
  return { posIouThr: a.pos_iou_thr, negIouThr: a.neg_iou_thr ?? a.pos_iou_thr, minPosIou: a.min_pos_iou ?? a.pos_iou_thr, matchLowQuality: a.match_low_quality };
}

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
