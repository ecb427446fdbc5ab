/** `?overlay=1`: the overlay PNG of a detection or segmentation result, as `convnext detect` / `segment` draw it. */
import type { ModelConfig } from '../config/models.js';
import type { RgbImage } from '../image/rgb.js';
import { rleFromString } from '../io/coco/rle.js';
import type { DetectedObject, SemanticSegmentation } from '../pipeline/types.js';
import { renderOverlay } from '../tasks/detection/detector-overlay.js';
import type { Instance } from '../tasks/detection/detector-predict.js';
import type { MaskRegion } from '../core/det/paste.js';
import { overlayPng } from '../tasks/segmentation/segmentor-output.js';
import { Segmentor } from '../tasks/segmentation/segmentor.js';

/**
 * The part of an RLE mask inside a box, as a region: only the box is allocated and only the runs
 * are walked (a full-image mask per instance would cost width × height each).
 */
export function regionOfRle(counts: string, height: number, width: number, box: DetectedObject['box']): MaskRegion {
  const x0 = Math.max(0, Math.floor(box.xmin) - 1);
  const y0 = Math.max(0, Math.floor(box.ymin) - 1);
  const x1 = Math.min(width, Math.ceil(box.xmax) + 1);
  const y1 = Math.min(height, Math.ceil(box.ymax) + 1);
  const rw = Math.max(0, x1 - x0);
  const rh = Math.max(0, y1 - y0);
  const data = new Uint8Array(rw * rh);
  const runs = rleFromString(counts, height, width).counts;
  let pos = 0;
  for (let r = 0; r < runs.length; r++) {
    const end = pos + runs[r];
    if (r % 2 === 1) {
      // Ones from pos to end (column-major: index = x · height + y), clipped to the region.
      for (let x = Math.max(x0, Math.floor(pos / height)); x < x1 && x * height < end; x++) {
        const ya = Math.max(y0, pos - x * height);
        const yb = Math.min(y1, end - x * height);
        for (let y = ya; y < yb; y++) data[(y - y0) * rw + (x - x0)] = 1;
      }
    }
    pos = end;
  }
  return { x0, y0, width: rw, height: rh, data };
}

/** The overlay of detected objects on `img` (masks decoded inside their boxes). */
export function detectionOverlay(img: RgbImage, objects: readonly DetectedObject[]): Promise<Buffer> {
  const { width, height } = img;
  const instances: Instance[] = objects.map((o) => ({
    box: [o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax],
    score: o.score,
    label: o.labelId,
    className: o.label,
    mask: o.mask ? regionOfRle(o.mask.counts, height, width, o.box) : { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) },
  }));
  return renderOverlay(img, { width, height, instances });
}

/** The colour overlay (with legend) of a label map on `img`, in the segmentor config's palette. */
export function segmentationOverlay(img: RgbImage, seg: SemanticSegmentation, config: ModelConfig): Promise<Buffer> {
  if (config.type !== 'segmentor') throw new Error('segmentation overlay of a model that is not a segmentor');
  const model = new Segmentor(config);
  return overlayPng(img, { width: seg.width, height: seg.height, data: seg.labels }, model.palette, 0.5, model.classNames);
}
