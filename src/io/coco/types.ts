/** Types of COCO instance annotations and results, as they appear in COCO JSON files. */
import type { CompressedRle, UncompressedRle, Xywh } from './rle.js';

export type { CompressedRle, UncompressedRle, Xywh } from './rle.js';

/** Polygons `[[x0, y0, x1, y1, …], …]` of one object (parts are merged). */
export type Polygons = number[][];

/** An object's mask: polygons, uncompressed RLE (crowds) or compressed RLE. */
export type Segmentation = Polygons | UncompressedRle | CompressedRle;

/** An image entry. */
export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
}

/** A category entry. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** A ground-truth object. `area` is the annotated area (used for the area ranges). */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: Xywh;
  area: number;
  iscrowd: number;
  segmentation?: Segmentation;
}

/** A COCO instance dataset (ground truth). `file` names its source in messages. */
export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  file: string;
}

/** One entry of a COCO results file (boxes in xywh). */
export interface CocoResult {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: Xywh;
  segmentation?: Segmentation;
}

/**
 * A detection after pycocotools' `loadRes` completion: `id` = index + 1, `area` and `bbox`
 * filled in, `segmentation` a box polygon when only a box was given.
 */
export interface CocoDetection {
  id: number;
  image_id: number;
  category_id: number;
  score: number;
  bbox: Xywh;
  area: number;
  segmentation: Segmentation;
}
