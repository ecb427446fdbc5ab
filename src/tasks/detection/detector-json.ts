/**
 * The per-image JSON of a detection, one format for `convnext detect`, `convnext demo` and
 * anything else that writes detections: the image, its size, and per instance the COCO result
 * (xywh `bbox`, `score`, `category_id`, RLE `segmentation`) with the 0-based `label` and `class_name`.
 */
import type { CocoResult } from '../../io/coco/types.js';
import { type DetectionResult, toCocoResults } from './detector-predict.js';

/** Default score threshold of the detection commands and the pipeline API. */
export const DEFAULT_SCORE_THR = 0.3;

export interface ImageDetections {
  image: string;
  width: number;
  height: number;
  instances: Array<CocoResult & { label: number; class_name: string }>;
}

/** The JSON record of one image's detections (`imageId` numbers it in the run's COCO results). */
export function imageDetections(file: string, r: DetectionResult, imageId: number, o: { cocoClasses: boolean }): ImageDetections {
  const results = toCocoResults(r, imageId, o);
  return {
    image: file,
    width: r.width,
    height: r.height,
    instances: results.map((res, k) => ({ ...res, label: r.instances[k].label, class_name: r.instances[k].className })),
  };
}
