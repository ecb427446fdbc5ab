/**
 * Conversion of any COCO segmentation to one RLE, as pycocotools' `COCO.annToRLE` with
 * `maskUtils.frPyObjects` does it.
 */
import { UserError } from '../../core/errors.js';
import {
  decompressRle, fromUncompressed, mergeRles, rleFrBbox, rleFrPoly, type Rle, type TraceBudget,
} from './rle.js';
import type { Segmentation } from './types.js';

/** True for a polygon list (as opposed to an RLE object). */
export function isPolygons(segm: Segmentation): segm is number[][] {
  return Array.isArray(segm);
}

/**
 * One RLE for a segmentation in an image of `h × w`. Polygons are rasterised and merged; RLE
 * objects keep their own `size`. A first part of exactly 4 numbers is read as xywh boxes, as
 * `frPyObjects` intends (pycocotools 2.0.x then hands a list to a function typed for ndarrays
 * and raises a TypeError; we evaluate instead). An RLE whose `size` is not `[h, w]` is refused
 * (pycocotools would give it an IoU of −1 with every mask, silently). `budget` bounds the points
 * traced over all the polygons of one file.
 */
export function segmentationToRle(segm: Segmentation, h: number, w: number, budget?: TraceBudget): Rle {
  if (isPolygons(segm)) {
    if (segm.length === 0) throw new UserError('segmentation is an empty polygon list');
    const asBoxes = segm[0].length === 4;
    const parts = segm.map((p) => {
      if (asBoxes) {
        if (p.length !== 4) {
          throw new UserError('segmentation mixes 4-number parts (read as boxes) with polygons');
        }
        return rleFrBbox(p, h, w, budget);
      }
      return rleFrPoly(p, h, w, budget);
    });
    return mergeRles(parts);
  }
  if (segm.size[0] !== h || segm.size[1] !== w) {
    // pycocotools gives such a mask an IoU of −1 with everything; a silent non-match helps no one.
    throw new UserError(`RLE size [${segm.size.join(', ')}] differs from its image's [${h}, ${w}]`);
  }
  if (typeof segm.counts === 'string') return decompressRle({ size: segm.size, counts: segm.counts });
  return fromUncompressed({ size: segm.size, counts: segm.counts });
}
