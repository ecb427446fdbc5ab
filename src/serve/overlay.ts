/** `?overlay=1`: the overlay PNG of a detection or segmentation result, as `convnext detect` / `segment` draw it. */
import type { ModelConfig } from '../config/models.js';
import type { RgbImage } from '../image/rgb.js';
import { decodeRle, rleFromString } from '../io/coco/rle.js';
import type { DetectedObject, SemanticSegmentation } from '../pipeline/types.js';
import { renderOverlay } from '../tasks/detection/detector-overlay.js';
import type { Instance } from '../tasks/detection/detector-predict.js';
import { overlayPng } from '../tasks/segmentation/segmentor-output.js';
import { Segmentor } from '../tasks/segmentation/segmentor.js';

/** The overlay of detected objects (masks decoded from their RLE) on `img`. */
export function detectionOverlay(img: RgbImage, objects: readonly DetectedObject[]): Promise<Buffer> {
  const { width, height } = img;
  const instances: Instance[] = objects.map((o) => ({
    box: [o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax],
    score: o.score,
    label: o.labelId,
    className: o.label,
    mask: { x0: 0, y0: 0, width, height, data: o.mask ? decodeRle(rleFromString(o.mask.counts, height, width)) : new Uint8Array(width * height) },
  }));
  return renderOverlay(img, { width, height, instances });
}

/** The colour overlay (with legend) of a label map on `img`, in the segmentor config's palette. */
export function segmentationOverlay(img: RgbImage, seg: SemanticSegmentation, config: ModelConfig): Promise<Buffer> {
  if (config.type !== 'segmentor') throw new Error('segmentation overlay of a model that is not a segmentor');
  const model = new Segmentor(config);
  return overlayPng(img, { width: seg.width, height: seg.height, data: seg.labels }, model.palette, 0.5, model.classNames);
}
