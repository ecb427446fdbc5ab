/**
 * The Cascade R-CNN RoI head at test time, as mmdetection 2.x `CascadeRoIHead.simple_test`:
 *
 * - stage s pools the current RoIs (the proposals for stage 0) and runs its box head
 *   (`bbox_head.{s}`); before the last stage the RoIs are refined by the stage's deltas of the
 *   arg-max foreground class (`regress_by_class`: decoded with the stage's coder, clipped to the image);
 * - the class logits of all stages are averaged (summed, then divided by the stage count), and
 *   the softmax of that average scores the last stage's RoIs, decoded with the last stage's deltas;
 *   then the usual post-processing (class-wise NMS, best `maxPerImg`);
 * - every stage's mask head (`mask_head.{s}`) runs on the detected boxes; the mask probability is
 *   the mean of the stages' sigmoid probabilities (`merge_aug_masks`).
 */
import { z } from 'zod';
import type { DetOps } from '../../core/det-ops.js';
import type { Scope } from '../../core/params.js';
import { type BoxCoderOptions, decodeBoxes } from '../../core/det/coder.js';
import { resolveCoder } from '../../core/det/coder-config.js';
import { BBoxHead, type BBoxHeadOptions } from './bbox-head.js';
import { type BBoxHeadConfig, type BBoxHeadDefaults, bboxHeadOptions, bboxHeadSchema, type RoiConventions, roiHeadCommon, type RoiHeadEntry, roiHeadFields } from './config.js';
import type { RoiHead, RoiHeadCommon, RoiStage } from './contract.js';
import { MaskHead } from './mask-head.js';
import { poolRois } from './pool.js';
import { type BoxDetections, detectionsOf } from './postprocess.js';

/** The official ConvNeXt Cascade configs' "4conv1f" box head (Shared4Conv1FCBBoxHead with SyncBN): a cascade's unset box head. */
export const CASCADE_BBOX_HEAD: BBoxHeadDefaults = { num_shared_convs: 4, conv_out_channels: 256, norm: 'BN', num_shared_fcs: 1, fc_out_channels: 1024, reg_class_agnostic: false };

/** Target stds of the official ConvNeXt Cascade configs' three stages (then halving per stage). */
export const CASCADE_STAGE_STDS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.1, 0.1, 0.2, 0.2],
  [0.05, 0.05, 0.1, 0.1],
  [0.033, 0.033, 0.067, 0.067],
];

/** Stage loss weights of mmdetection's Cascade configs (the last repeats for further stages). */
export const CASCADE_STAGE_LOSS_WEIGHTS = [1, 0.5, 0.25] as const;

/**
 * A cascade RoI head's config (mmdetection 2.x `CascadeRoIHead`): `num_stages` box heads and as
 * many mask heads. `bbox_head` is one head for every stage or a list of one per stage; unset
 * values follow the official ConvNeXt Cascade configs (4 shared convs with BN + 1 fc,
 * class-specific deltas, target stds halving per stage). `mask_head` is replicated per stage.
 */
export const cascadeRoiHeadSchema = z
  .object({
    type: z.literal('cascade'),
    ...roiHeadFields,
    num_stages: z.number().int().positive().default(3),
    /** Loss weight of each stage (training). */
    stage_loss_weights: z.array(z.number().min(0)).optional(),
    bbox_head: z.union([bboxHeadSchema(CASCADE_BBOX_HEAD), z.array(bboxHeadSchema(CASCADE_BBOX_HEAD))]).prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (Array.isArray(c.bbox_head) && c.bbox_head.length !== c.num_stages) {
      ctx.addIssue({ code: 'custom', path: ['bbox_head'], message: `${c.bbox_head.length} box heads for ${c.num_stages} stages` });
    }
    const w = c.stage_loss_weights;
    if (w && w.length !== c.num_stages) {
      ctx.addIssue({ code: 'custom', path: ['stage_loss_weights'], message: `${w.length} weights for ${c.num_stages} stages` });
    }
  });

export type CascadeRoiHeadConfig = z.output<typeof cascadeRoiHeadSchema>;

/** The box head config of each stage, defaults filled in. */
export function cascadeBBoxHeads(c: CascadeRoiHeadConfig): BBoxHeadConfig[] {
  const bh = c.bbox_head;
  return Array.from({ length: c.num_stages }, (_, s) => (Array.isArray(bh) ? bh[s] : bh));
}

/**
 * The box coder of each stage: its own `bbox_coder`, else the profile's coder with the stage's
 * target stds (CASCADE_STAGE_STDS, halved again for every stage past the third) when it is
 * mmdetection's, else the profile's coder.
 */
export function cascadeStageCoders(c: CascadeRoiHeadConfig, v: RoiConventions): BoxCoderOptions[] {
  return cascadeBBoxHeads(c).map((h, s) => {
    const k = Math.min(s, CASCADE_STAGE_STDS.length - 1);
    const stds = CASCADE_STAGE_STDS[k].map((x) => x / 2 ** (s - k)) as [number, number, number, number];
    const dflt: BoxCoderOptions = v.rcnnCoder.type === 'mmdet' ? { ...v.rcnnCoder, stds } : v.rcnnCoder;
    return resolveCoder(h.bbox_coder, dflt);
  });
}

export interface CascadeStageOptions {
  bbox: BBoxHeadOptions;
  coder: BoxCoderOptions;
  lossWeight: number;
}

export interface CascadeRoiHeadOptions extends RoiHeadCommon {
  stages: readonly CascadeStageOptions[];
}

export class CascadeRoiHead implements RoiHead {
  readonly bbox: readonly BBoxHead[];
  readonly mask: readonly MaskHead[];
  readonly stages: readonly RoiStage[];

  constructor(scope: Scope, readonly o: CascadeRoiHeadOptions) {
    if (o.stages.length < 1) throw new Error('cascade RoI head: at least one stage');
    // The stages' logits are averaged: they must have the same classes in the same columns.
    const layouts = new Set(o.stages.map((s) => `${s.bbox.numClasses}/${s.bbox.background}`));
    if (layouts.size !== 1) throw new Error('cascade RoI head: every stage must have the same number of classes and background position');
    this.bbox = o.stages.map((s, i) => new BBoxHead(scope.child('bbox_head').child(i), s.bbox));
    this.mask = o.stages.map((_, i) => new MaskHead(scope.child('mask_head').child(i), o.mask));
    this.stages = o.stages.map((s, i) => ({ bbox: this.bbox[i], mask: this.mask[i], coder: s.coder, lossWeight: s.lossWeight }));
  }

  detect<T>(ops: DetOps<T>, feats: readonly T[], proposals: T, imageSize: T): BoxDetections<T> {
    const n = this.o.stages.length;
    let rois = proposals;
    const logits: T[] = [];
    let deltas: T | null = null;
    for (let s = 0; s < n; s++) {
      const head = this.bbox[s];
      const raw = head.raw(ops, poolRois(ops, feats, rois, this.o, this.o.boxRoi));
      logits.push(raw.cls);
      deltas = head.deltas(ops, raw.reg);
      if (s === n - 1) break;
      const picked = head.o.classAgnostic ? deltas : ops.pickGroups(deltas, ops.argmaxColumns(head.foregroundLogits(ops, raw.cls)), 4);
      rois = decodeBoxes(ops, picked, rois, this.o.stages[s].coder, imageSize);
    }
    const last = this.o.stages[n - 1];
    const mean = meanOf(ops, logits);
    return detectionsOf(ops, rois, this.bbox[n - 1].scores(ops, mean), deltas!, last.bbox.numClasses, last.bbox.classAgnostic, last.coder, imageSize, this.o.test);
  }

  segment<T>(ops: DetOps<T>, feats: readonly T[], boxes: T, labels: T): T {
    const pooled = poolRois(ops, feats, boxes, this.o, this.o.maskRoi);
    return meanOf(ops, this.mask.map((head) => head.forward(ops, pooled, labels)));
  }
}

/** The mean of tensors of one shape: summed in order, then divided by their count (as mmdetection). */
function meanOf<T>(ops: DetOps<T>, xs: readonly T[]): T {
  const sum = xs.slice(1).reduce((acc, x) => ops.add(acc, x), xs[0]);
  return xs.length === 1 ? sum : ops.divScalar(sum, xs.length);
}

/** The registry entry (`type: 'cascade'`). */
export const cascadeRoiHeadEntry: RoiHeadEntry<CascadeRoiHeadConfig> = {
  type: 'cascade',
  schema: cascadeRoiHeadSchema,
  build: (scope, upstream, o, ctx) => {
    const coders = cascadeStageCoders(o, ctx.conventions);
    const lastWeight = CASCADE_STAGE_LOSS_WEIGHTS[CASCADE_STAGE_LOSS_WEIGHTS.length - 1];
    return new CascadeRoiHead(scope, {
      ...roiHeadCommon(upstream, o, ctx),
      stages: cascadeBBoxHeads(o).map((bh, s) => ({
        bbox: bboxHeadOptions(bh, upstream, o, ctx),
        coder: coders[s],
        lossWeight: o.stage_loss_weights?.[s] ?? CASCADE_STAGE_LOSS_WEIGHTS[s] ?? lastWeight,
      })),
    });
  },
};
