/**
 * Semantic-segmentation dataset folders: `images/` and `annotations/` with the same relative paths,
 * annotations as PNG label maps (e.g. ADE20K's ADEChallengeData2016), listed in sorted order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileError, UserError } from '../core/errors.js';
import { isImageFile } from './image-files.js';
import { decodeLabelPng, type LabelImage } from './label-png.js';

/** One evaluation sample: an image and its label map. */
export interface SegSample {
  image: string;
  annotation: string;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) for (const f of walk(p)) out.push(f); // not push(...): a huge folder would overflow the call stack
    else if (isImageFile(e.name)) out.push(p);
  }
  return out;
}

/** Pairs every image under `<root>/images` with `<root>/annotations/<same path>.png`. */
export function listSegSamples(root: string): SegSample[] {
  const images = join(root, 'images');
  const annotations = join(root, 'annotations');
  for (const d of [images, annotations]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new UserError(`--data ${root}: expected folders images/ and annotations/ (${d} is missing)`);
  }
  const files = walk(images).sort();
  if (files.length === 0) throw new UserError(`--data ${root}: images/ holds no images`);
  return files.map((image) => {
    const rel = relative(images, image);
    const annotation = join(annotations, rel.slice(0, rel.length - extname(rel).length) + '.png');
    if (!existsSync(annotation)) throw new UserError(`${image}: no label map ${annotation}`);
    return { image, annotation };
  });
}

/** Reads a label map PNG (grayscale or palette; values are class ids). */
export function readLabelMap(file: string): LabelImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError(file, e);
  }
  return decodeLabelPng(bytes, file);
}
