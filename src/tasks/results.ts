/**
 * The plain result objects of detection and semantic segmentation (the library API's shapes, in
 * original-image pixels with class names) and their construction from the predictors' results.
 * Node and browsers share this code, so both give the same JSON.
 */
import { compressRle } from '../io/coco/rle.js';
import { type DetectionResult, regionToRle } from './detection/detector-predict.js';
import type { SegPrediction } from './segmentation/segmentor-predict.js';
import { classShares } from './segmentation/segmentor-classes.js';

/** A box in original-image pixels. */
export interface Box {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** A binary mask at the original image size, as COCO's compressed RLE (pycocotools' `counts` string). */
export interface RleMask {
  /** [height, width]. */
  size: [number, number];
  counts: string;
}

/** One detected instance. */
export interface DetectedObject {
  label: string;
  /** 0-based class index. */
  labelId: number;
  score: number;
  box: Box;
  /** The instance mask (absent with `{ mask: false }`). */
  mask?: RleMask;
}

export interface DetectionOptions {
  /** Keep instances scoring at least this (default 0.3, as `convnext detect`). */
  threshold?: number;
  /** Encode each instance's mask (default true). */
  mask?: boolean;
  /** 'agnostic': also suppress overlapping instances of other classes (default 'class': the model's NMS only). */
  nms?: 'class' | 'agnostic';
}

/** A class present in a label map. */
export interface ClassShare {
  label: string;
  labelId: number;
  pixels: number;
  /** Fraction of the image's pixels. */
  share: number;
}

/** A semantic segmentation: a class index per pixel and the classes present, most pixels first. */
export interface SemanticSegmentation {
  width: number;
  height: number;
  /** Class index per pixel, row-major, width × height. */
  labels: Uint16Array;
  classes: ClassShare[];
}

export interface SegmentationOptions {
  /** Whole image or sliding window (default: the config's `test.mode`). */
  mode?: 'whole' | 'slide';
  /** Flip and multi-scale test-time augmentation (the config's `tta` scales). */
  tta?: boolean;
}

/** The plain objects of a detection result (masks as compressed RLE unless `mask: false`). */
export function detectedObjects(r: DetectionResult, o: Pick<DetectionOptions, 'mask'> = {}): DetectedObject[] {
  return r.instances.map((ins) => ({
    label: ins.className,
    labelId: ins.label,
    score: ins.score,
    box: { xmin: ins.box[0], ymin: ins.box[1], xmax: ins.box[2], ymax: ins.box[3] },
    ...(o.mask === false ? {} : { mask: compressRle(regionToRle(ins.mask, r.height, r.width)) }),
  }));
}

/** The plain object of a segmentation: the label map and the classes present, most pixels first. */
export function semanticSegmentation(pred: SegPrediction, classNames: readonly string[]): SemanticSegmentation {
  const classes = classShares(pred.labels, classNames).map((c) => ({ label: c.name, labelId: c.index, pixels: c.pixels, share: c.fraction }));
  return { width: pred.labels.width, height: pred.labels.height, labels: Uint16Array.from(pred.labels.data), classes };
}
