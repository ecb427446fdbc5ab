/**
 * Which pyramid level pools each RoI. Both rules put a box of side s = √(w·h) on the level
 * floor(log2(s / 56)) (0 for p2), clamped to the available levels, with a small epsilon:
 * mmdetection `SingleRoIExtractor.map_roi_levels`: floor(log2(s / finest_scale + 1e-6));
 * torchvision `LevelMapper`: floor(4 + log2(s / 224) + 1e-6) − k_min.
 */
import type { DetOps } from '../../core/det-ops.js';

export type LevelMapperOptions =
  | { type: 'mmdet'; finestScale: number }
  | { type: 'torchvision'; canonicalScale: number; canonicalLevel: number; minLevel: number };

/** Level index (float table of integers in 0..numLevels−1) of each RoI [R, 4]. */
export function mapRoiLevels<T>(ops: DetOps<T>, rois: T, numLevels: number, o: LevelMapperOptions): T {
  const w = ops.sub(ops.column(rois, 2), ops.column(rois, 0));
  const h = ops.sub(ops.column(rois, 3), ops.column(rois, 1));
  const s = ops.sqrt(ops.mul(h, w));
  const log2 = (x: T) => ops.divScalar(ops.log(x), Math.LN2);
  let lvl: T;
  if (o.type === 'mmdet') {
    lvl = ops.floor(log2(ops.addScalar(ops.divScalar(s, o.finestScale), 1e-6)));
  } else {
    lvl = ops.addScalar(ops.floor(ops.addScalar(ops.addScalar(log2(ops.divScalar(s, o.canonicalScale)), o.canonicalLevel), 1e-6)), -o.minLevel);
  }
  return ops.clamp(lvl, 0, numLevels - 1);
}
