/**
 * COCO instance datasets for training (the layout `convnext eval` reads and `convnext synth --task
 * det` writes: an annotation JSON whose `file_name`s are relative to an image folder). Loading
 * validates everything up front, so a bad dataset fails before the first step with a one-line
 * message: no images, an image file that is missing, a category the model's classes do not cover.
 * Crowd annotations and boxes under one pixel are skipped (mmdetection's `_parse_ann_info`).
 */
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { cocoImagePath, loadCocoDataset } from '../io/coco/dataset.js';
import { decodeRle } from '../io/coco/rle.js';
import { segmentationToRle } from '../io/coco/segm.js';
import type { CocoDataset, Segmentation } from '../io/coco/types.js';

/** One object of a training image. */
export interface DetObject {
  /** [x1, y1, x2, y2] in image pixels. */
  box: [number, number, number, number];
  /** 0-based class of the model. */
  label: number;
  segmentation?: Segmentation;
}

/** One training image and its objects. */
export interface DetRecord {
  id: number;
  file: string;
  width: number;
  height: number;
  objects: DetObject[];
}

/** A loaded training set. */
export interface DetDataset {
  source: string;
  records: DetRecord[];
  /** Category id of each model class. */
  categoryIds: number[];
}

/**
 * Category id of each model class: by name when every class name is a category name (as
 * mmdetection's `get_cat_ids(cat_names=CLASSES)`), otherwise the categories in id order when
 * their number equals the number of classes.
 */
export function classCategoryIds(classNames: readonly string[], gt: CocoDataset): number[] {
  const byName = new Map(gt.categories.map((c) => [c.name, c.id]));
  if (classNames.every((n) => byName.has(n))) return classNames.map((n) => byName.get(n)!);
  const ids = gt.categories.map((c) => c.id).sort((a, b) => a - b);
  if (ids.length !== classNames.length) {
    throw new UserError(`${gt.file}: ${ids.length} categories (${gt.categories.map((c) => c.name).join(', ')}) do not match the config's ${classNames.length} classes (${classNames.join(', ')})`);
  }
  return ids;
}

/** Loads `annotations` (COCO JSON) with images under `imageDir` for a model with `classNames`. */
export function loadDetDataset(annotations: string, imageDir: string, classNames: readonly string[], opts: { requireMasks?: boolean } = {}): DetDataset {
  const gt = loadCocoDataset(annotations);
  if (gt.images.length === 0) throw new UserError(`${annotations}: the dataset has no images`);
  const categoryIds = classCategoryIds(classNames, gt);
  const labelOf = new Map(categoryIds.map((id, i) => [id, i]));
  const byImage = new Map<number, DetObject[]>(gt.images.map((im) => [im.id, []]));
  gt.annotations.forEach((a, i) => {
    const label = labelOf.get(a.category_id);
    if (label === undefined) {
      const cat = gt.categories.find((c) => c.id === a.category_id);
      throw new UserError(`${annotations}: annotations[${i}] (id ${a.id}) has category_id ${a.category_id} ('${cat?.name ?? '?'}'), which is not one of the config's classes (${classNames.join(', ')})`);
    }
    if (a.iscrowd) return;
    const [x, y, w, h] = a.bbox;
    if (!(w >= 1 && h >= 1)) return;
    if (opts.requireMasks && a.segmentation === undefined) throw new UserError(`${annotations}: annotations[${i}] (id ${a.id}) has no segmentation, which Mask R-CNN training needs`);
    byImage.get(a.image_id)!.push({ box: [x, y, x + w, y + h], label, segmentation: a.segmentation });
  });
  const records = gt.images.map((im, i) => {
    if (!im.file_name) throw new UserError(`${annotations}: images[${i}] (id ${im.id}) has no file_name`);
    const file = cocoImagePath(imageDir, im.file_name, `${annotations}: images[${i}]`);
    if (!existsSync(file)) throw new UserError(`${annotations}: images[${i}] (id ${im.id}) refers to ${file}, which does not exist`);
    return { id: im.id, file, width: im.width, height: im.height, objects: byImage.get(im.id)! };
  });
  return { source: annotations, records, categoryIds };
}

/** The binary mask (row-major, height × width) of an object; its box when it has no segmentation. */
export function objectMask(o: DetObject, height: number, width: number): Uint8Array {
  if (o.segmentation === undefined) {
    const m = new Uint8Array(height * width);
    const [x1, y1, x2, y2] = o.box.map((v) => Math.round(v));
    for (let y = Math.max(0, y1); y < Math.min(height, y2); y++) m.fill(1, y * width + Math.max(0, x1), y * width + Math.min(width, x2));
    return m;
  }
  const rle = segmentationToRle(o.segmentation, height, width);
  if (rle.h !== height || rle.w !== width) throw new UserError(`mask of size ${rle.w}x${rle.h} in an image of ${width}x${height}`);
  return decodeRle(rle);
}
