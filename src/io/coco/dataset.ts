/**
 * Loading and validating COCO instance JSON (ground truth) and COCO results JSON with zod.
 * Errors are {@link UserError}s of one line naming the file and the JSON path, e.g.
 * `ann.json: annotations[3].bbox: expected array of 4 numbers`.
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { fileError, UserError } from '../../core/errors.js';
import { limits, raiseHint } from '../../core/limits.js';
import { rleArea, rleToBbox, type Xywh } from './rle.js';
import { segmentationToRle } from './segm.js';
import type {
  CocoAnnotation, CocoCategory, CocoDataset, CocoDetection, CocoImage, CocoResult, Segmentation,
} from './types.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Error map: "missing (expected X)" for an absent field, "expected X" otherwise. */
const expected = (what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `missing (expected ${what})` : `expected ${what}`;

const id = z.number({ error: expected('an integer id') }).int({ error: 'expected an integer id' });
const finite = z.number({ error: expected('a number') }).refine(Number.isFinite, { error: 'expected a finite number' });

/** `v` within ±coco_coordinate (the limit, with how to raise it, in the message otherwise). */
function coordinateError(v: number): string | null {
  const max = limits().coco_coordinate;
  return Math.abs(v) <= max ? null : `${v} is beyond ±${max} (${raiseHint('coco_coordinate')})`;
}

const xywh = z.custom<Xywh>((v) => Array.isArray(v) && v.length === 4 && v.every(isNum), {
  error: expected('array of 4 numbers'),
}).superRefine((v, ctx) => {
  for (let i = 0; i < 4; i++) {
    const err = coordinateError(v[i]);
    if (err) return void ctx.addIssue({ code: 'custom', path: [i], message: err });
  }
});

/** Validates a segmentation; returns an error message (with a relative path) or null. */
function checkSegmentation(v: unknown): { path: (string | number)[]; message: string } | null {
  if (Array.isArray(v)) {
    if (v.length === 0) return { path: [], message: 'expected at least one polygon' };
    for (let i = 0; i < v.length; i++) {
      const p: unknown = v[i];
      if (!Array.isArray(p) || !p.every(isNum)) {
        return { path: [i], message: 'expected a polygon [x0, y0, x1, y1, ...] of numbers' };
      }
      if (p.length < 4) return { path: [i], message: `polygon has ${p.length} numbers, expected at least 4` };
      // pycocotools drops an odd last number silently; it is more likely a broken file.
      if (p.length % 2 !== 0) return { path: [i], message: `polygon has an odd count of numbers (${p.length}), expected x, y pairs` };
      for (let j = 0; j < p.length; j++) {
        const err = coordinateError(p[j] as number);
        if (err) return { path: [i, j], message: err };
      }
    }
    return null;
  }
  if (typeof v !== 'object' || v === null) {
    return { path: [], message: 'expected polygons or an RLE object {size, counts}' };
  }
  const o = v as Record<string, unknown>;
  const size = o.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n >= 0)) {
    return { path: ['size'], message: 'expected [height, width] of non-negative integers' };
  }
  for (let j = 0; j < 2; j++) {
    const err = coordinateError(size[j] as number);
    if (err) return { path: ['size', j], message: err };
  }
  const counts = o.counts;
  if (typeof counts === 'string') return null;
  if (!Array.isArray(counts)) {
    return { path: ['counts'], message: 'expected a compressed RLE string or an array of run lengths' };
  }
  let total = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) {
      return { path: ['counts'], message: 'expected run lengths (non-negative integers)' };
    }
    total += c;
  }
  if (total !== size[0] * size[1]) {
    return { path: ['counts'], message: `run lengths sum to ${total}, expected ${size[0]}x${size[1]}` };
  }
  return null;
}

const segmentation = z.unknown().superRefine((v, ctx) => {
  const err = checkSegmentation(v);
  if (err) ctx.addIssue({ code: 'custom', path: err.path, message: err.message });
}).transform((v) => v as Segmentation);

const side = z.number({ error: expected('a positive integer') }).int({ error: 'expected a positive integer' })
  .positive({ error: 'expected a positive integer' })
  .superRefine((v, ctx) => {
    const err = coordinateError(v);
    if (err) ctx.addIssue({ code: 'custom', message: err });
  });

const imageSchema = z.object({
  id,
  width: side,
  height: side,
  file_name: z.string().optional(),
}).superRefine((im, ctx) => {
  const max = limits().image_pixels;
  if (im.width * im.height > max) {
    ctx.addIssue({ code: 'custom', message: `${im.width}×${im.height} pixels is over the limit (${raiseHint('image_pixels')})` });
  }
});

const categorySchema = z.object({
  id,
  name: z.string({ error: expected('a string') }),
  supercategory: z.string().optional(),
});

const iscrowd = z
  .union([z.number(), z.boolean()], { error: 'expected 0, 1 or a boolean' })
  .transform((v) => (v ? 1 : 0))
  .optional();

const annotationSchema = z.object({
  id,
  image_id: id,
  category_id: id,
  bbox: xywh,
  area: finite,
  iscrowd,
  segmentation: segmentation.optional(),
});

const datasetSchema = z.object(
  {
    images: z.array(imageSchema, { error: expected('an array of images') }),
    annotations: z.array(annotationSchema, { error: expected('an array of annotations') }).optional(),
    categories: z.array(categorySchema, { error: expected('an array of categories') }),
  },
  { error: 'expected an object with images, annotations and categories' },
);

const resultSchema = z.object({
  image_id: id,
  category_id: id,
  score: finite,
  bbox: xywh.optional(),
  segmentation: segmentation.optional(),
});

const resultsSchema = z.array(resultSchema, {
  error: 'expected an array of results {image_id, category_id, score, bbox | segmentation}',
});

/** `annotations[3].bbox` from a zod path. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += s ? `.${String(k)}` : String(k);
  }
  return s;
}

function zodToUserError(file: string, error: z.ZodError): UserError {
  const issue = error.issues[0];
  let message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && / received undefined$/.test(message)) {
    message = `missing (${message.replace(/, received undefined$/, '')})`;
  }
  const where = formatJsonPath(issue.path);
  return new UserError(`${file}: ${where ? `${where}: ` : ''}${message}`);
}

/** Reads and parses a JSON file; an unreadable or malformed file is a {@link UserError}. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fileError(path, e);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UserError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/**
 * Validates a COCO instance dataset object. `file` names it in messages. Checks the schema,
 * duplicate ids, and that every annotation's image and category exist.
 */
export function parseCocoDataset(json: unknown, file = 'annotations'): CocoDataset {
  const r = datasetSchema.safeParse(json);
  if (!r.success) throw zodToUserError(file, r.error);
  const images: CocoImage[] = r.data.images;
  const categories: CocoCategory[] = r.data.categories;
  const annotations: CocoAnnotation[] = (r.data.annotations ?? []).map((a) => ({
    ...a,
    iscrowd: a.iscrowd ?? 0,
  }));
  uniqueIds(images, file, 'images');
  const catIds = uniqueIds(categories, file, 'categories');
  uniqueIds(annotations, file, 'annotations');
  const imageById = new Map(images.map((im) => [im.id, im]));
  annotations.forEach((a, i) => {
    const im = imageById.get(a.image_id);
    if (!im) {
      throw new UserError(`${file}: annotations[${i}].image_id: no image with id ${a.image_id}`);
    }
    const segm = a.segmentation;
    if (segm && !Array.isArray(segm) && (segm.size[0] !== im.height || segm.size[1] !== im.width)) {
      throw new UserError(`${file}: annotations[${i}].segmentation.size: [${segm.size.join(', ')}] differs from image ${im.id}'s [${im.height}, ${im.width}]`);
    }
    if (!catIds.has(a.category_id)) {
      throw new UserError(`${file}: annotations[${i}].category_id: no category with id ${a.category_id}`);
    }
  });
  return { images, annotations, categories, file };
}

function uniqueIds(items: readonly { id: number }[], file: string, key: string): Set<number> {
  const seen = new Set<number>();
  items.forEach((it, i) => {
    if (seen.has(it.id)) throw new UserError(`${file}: ${key}[${i}].id: duplicate id ${it.id}`);
    seen.add(it.id);
  });
  return seen;
}

/**
 * The path of an image of a COCO file inside `imageDir`. A `file_name` that leaves the folder
 * (`../…`, or absolute) is refused: an annotation file must not make the reader open other files.
 */
export function cocoImagePath(imageDir: string, fileName: string, where: string): string {
  const root = resolve(imageDir);
  const file = resolve(root, fileName);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new UserError(`${where}: file_name '${fileName.slice(0, 80)}' leaves the image folder ${imageDir}`);
  return file;
}

/** Loads a COCO instance JSON file (`instances_val2017.json` and the like). */
export function loadCocoDataset(path: string): CocoDataset {
  return parseCocoDataset(readJsonFile(path), basename(path));
}

/** Validates a COCO results array; `file` names it in messages. */
export function parseCocoResults(json: unknown, file = 'results'): CocoResult[] {
  const r = resultsSchema.safeParse(json);
  if (!r.success) throw zodToUserError(file, r.error);
  return r.data;
}

/** Loads a COCO results JSON file. */
export function loadCocoResults(path: string): CocoResult[] {
  return parseCocoResults(readJsonFile(path), basename(path));
}

/**
 * Completes results against a ground truth as pycocotools' `COCO.loadRes` does: ids 1..N in
 * file order; if the first result has a non-empty `bbox`, every result is taken as a box
 * (area = w·h, segmentation = the box polygon unless given), otherwise as a mask (area and
 * bbox from the mask). Every `image_id` must be an image of the ground truth.
 */
export function prepareDetections(results: readonly CocoResult[], gt: CocoDataset, file = 'results'): CocoDetection[] {
  const images = new Map(gt.images.map((im) => [im.id, im]));
  const boxMode = results.length > 0 && results[0].bbox !== undefined;
  const budget = { left: limits().coco_polygon_points };
  return results.map((r, i) => {
    const im = images.get(r.image_id);
    if (!im) throw new UserError(`${file}: [${i}].image_id: image ${r.image_id} is not in ${gt.file}`);
    const segm = r.segmentation;
    if (segm && !Array.isArray(segm) && (segm.size[0] !== im.height || segm.size[1] !== im.width)) {
      throw new UserError(`${file}: [${i}].segmentation.size: [${segm.size.join(', ')}] differs from image ${im.id}'s [${im.height}, ${im.width}] in ${gt.file}`);
    }
    if (boxMode) {
      if (!r.bbox) throw new UserError(`${file}: [${i}].bbox: missing (the first result has a bbox)`);
      const [x, y, w, h] = r.bbox;
      const segm = r.segmentation ?? [[x, y, x, y + h, x + w, y + h, x + w, y]];
      return { id: i + 1, image_id: r.image_id, category_id: r.category_id, score: r.score, bbox: r.bbox, area: w * h, segmentation: segm };
    }
    if (!r.segmentation) {
      throw new UserError(`${file}: [${i}]: needs a bbox or a segmentation`);
    }
    let rle;
    try {
      rle = segmentationToRle(r.segmentation, im.height, im.width, budget);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${file}: [${i}].segmentation: ${e.message}`);
      throw e;
    }
    return {
      id: i + 1,
      image_id: r.image_id,
      category_id: r.category_id,
      score: r.score,
      bbox: r.bbox ?? rleToBbox(rle),
      area: rleArea(rle),
      segmentation: r.segmentation,
    };
  });
}
