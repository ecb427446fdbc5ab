/** Multi-level RoI pooling as mmdetection's `SingleRoIExtractor` and torchvision's `MultiScaleRoIAlign`. */
import type { DetOps, RoiAlignSpec } from '../../core/det-ops.js';
import { type LevelMapperOptions, mapRoiLevels } from './levels.js';

export interface RoiPoolOptions {
  /** Strides of the pooled levels (p2…p5). */
  strides: readonly number[];
  levels: LevelMapperOptions;
}

/** RoIs [R, 4] (input coordinates) pooled from the level their size maps to → [R, C, o, o]. */
export function poolRois<T>(ops: DetOps<T>, feats: readonly T[], rois: T, o: RoiPoolOptions, spec: Omit<RoiAlignSpec, 'scales'>): T {
  const levels = mapRoiLevels(ops, rois, o.strides.length, o.levels);
  return ops.roiAlign(feats.slice(0, o.strides.length), rois, levels, { ...spec, scales: o.strides.map((s) => 1 / s) });
}
