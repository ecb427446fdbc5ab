/**
 * The RPN head's config (`rpn_head`: width, anchor generator, box coder, test settings), the
 * convention profile's values for whatever it leaves unset, and the registry entry types. The
 * input channels come from the pyramid it reads, never from the config.
 */
import { z } from 'zod';
import type { AnchorStrideMode } from '../../core/det-ops.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import { boxCoderSchema } from '../../core/det/coder-config.js';
import type { ComponentEntry } from '../../core/registry.js';
import type { RpnHead } from './contract.js';

const posInt = z.number().int().positive();

/** mmdetection's `RPNHead` / torchvision's `RPNHead` config (`type: 'rpn'`). */
export const rpnHeadSchema = z
  .object({
    type: z.literal('rpn'),
    /** Width of the shared 3×3 conv (unset: the pyramid's channels). */
    feat_channels: posInt.optional(),
    anchor_generator: z
      .object({
        /** Octave scales: the anchor side is stride × scale (8: 32 px at stride 4). */
        scales: z.array(z.number().positive()).min(1).optional(),
        ratios: z.array(z.number().positive()).min(1).optional(),
        /** Round base anchors to integers (torchvision). */
        round: z.boolean().optional(),
        center_offset: z.number().min(0).max(1).optional(),
        /** 'nominal' (mmdetection) or 'input_over_feature' (torchvision: padded size // feature size). */
        stride_mode: z.enum(['nominal', 'input_over_feature']).optional(),
      })
      .strict()
      .optional(),
    bbox_coder: boxCoderSchema.optional(),
    test: z
      .object({
        nms_pre: posInt.optional(),
        max_per_img: posInt.optional(),
        iou_threshold: z.number().min(0).max(1).optional(),
        min_bbox_size: z.number().min(0).optional(),
        /** Keep boxes whose sides equal min_bbox_size (torchvision) or only larger ones (mmdetection). */
        min_size_inclusive: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RpnHeadConfig = z.output<typeof rpnHeadSchema>;

/** The convention profile's RPN values, used for whatever a config leaves unset. */
export interface RpnConventions {
  anchors: { scales: number[]; ratios: number[]; round: boolean; centerOffset: number; strideMode: AnchorStrideMode };
  rpnCoder: BoxCoderOptions;
  rpnTest: { nmsPre: number; maxPerImg: number; iouThr: number; minSize: number; minSizeInclusive: boolean };
}

/** What a detector gives its RPN head besides the pyramid levels it reads. */
export interface RpnHeadContext {
  conventions: RpnConventions;
}

/** An RPN head type's registry entry. */
export type RpnHeadEntry<O extends { type: string }> = ComponentEntry<O, RpnHead, RpnHeadContext>;
