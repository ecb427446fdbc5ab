/**
 * The config of a box coder (`bbox_coder` of RPN and box heads) and its resolution against the
 * coder a convention profile or a stage gives by default: unset values come from that default,
 * or from the library's standard box-head coder when the config names the other library's type.
 */
import { z } from 'zod';
import { type BoxCoderOptions, MMDET_WH_CLIP, TORCHVISION_WH_CLIP } from './coder.js';

const four = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export const boxCoderSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('mmdet'), means: four.optional(), stds: four.optional(), clip: z.number().positive().optional() }).strict(),
  z.object({ type: z.literal('torchvision'), weights: four.optional(), clip: z.number().positive().optional() }).strict(),
]);

export type BoxCoderConfig = z.output<typeof boxCoderSchema>;

/** mmdetection's box-head coder (`DeltaXYWHBBoxCoder`, target stds 0.1, 0.1, 0.2, 0.2). */
export const MMDET_RCNN_CODER: Extract<BoxCoderOptions, { type: 'mmdet' }> = { type: 'mmdet', means: [0, 0, 0, 0], stds: [0.1, 0.1, 0.2, 0.2], clip: MMDET_WH_CLIP };
/** torchvision's box-head coder (`BoxCoder` weights 10, 10, 5, 5). */
export const TORCHVISION_RCNN_CODER: Extract<BoxCoderOptions, { type: 'torchvision' }> = { type: 'torchvision', weights: [10, 10, 5, 5], clip: TORCHVISION_WH_CLIP };

/** The coder of a `bbox_coder` config (undefined: `dflt`). */
export function resolveCoder(c: BoxCoderConfig | undefined, dflt: BoxCoderOptions): BoxCoderOptions {
  if (!c) return dflt;
  if (c.type === 'mmdet') {
    const base = dflt.type === 'mmdet' ? dflt : MMDET_RCNN_CODER;
    return { type: 'mmdet', means: c.means ?? base.means, stds: c.stds ?? base.stds, clip: c.clip ?? base.clip };
  }
  const base = dflt.type === 'torchvision' ? dflt : TORCHVISION_RCNN_CODER;
  return { type: 'torchvision', weights: c.weights ?? base.weights, clip: c.clip ?? base.clip };
}
