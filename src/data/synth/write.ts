/**
 * Writes a synthetic dataset to a folder, deterministically (same options → same bytes):
 * - det: `images/NNNNNN.png` and COCO instance JSON `annotations.json` (compressed RLE masks of the
 *   visible pixels, boxes and areas from those masks, categories = shape kinds);
 * - seg: `images/NNNNNN.png`, `annotations/NNNNNN.png` label maps (8-bit grayscale, 0 = background,
 *   kind i → i + 1) and `classes.json` (class names, palette, ignore index).
 * Every file is written atomically; the JSON last, so a dataset with its JSON is complete.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../core/errors.js';
import { compressRle, encodeMask, rleArea, rleToBbox } from '../../io/coco/rle.js';
import type { CocoAnnotation, CocoCategory, CocoImage } from '../../io/coco/types.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { generateScene, SCENE_DEFAULTS, type Scene, type SceneOptions } from './scene.js';
import { DEFAULT_KINDS, type ShapeKind } from './shapes.js';

export type SynthTask = 'det' | 'seg';

export interface SynthOptions extends Partial<Omit<SceneOptions, 'width' | 'height'>> {
  task: SynthTask;
  out: string;
  n: number;
  seed?: number;
  /** Image side in pixels (square images). */
  size?: number;
  /** Replace an existing dataset in `out`. */
  overwrite?: boolean;
  /** Called after each image with the number written. */
  onProgress?: (done: number) => void;
}

export interface SynthSummary {
  task: SynthTask;
  images: number;
  objects: number;
  kinds: ShapeKind[];
  /** The JSON written last (annotations.json or classes.json). */
  index: string;
}

/** Images encoded at the same time (sharp works on its own threads). */
const CONCURRENCY = 4;

/** A fixed palette for the label classes (background black). */
const PALETTE: ReadonlyArray<[number, number, number]> = [
  [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
];

export function imageName(i: number): string {
  return `${String(i).padStart(6, '0')}.png`;
}

function pngRgb(s: Scene): Promise<Buffer> {
  return sharp(Buffer.from(s.rgb.buffer, s.rgb.byteOffset, s.rgb.byteLength), { raw: { width: s.width, height: s.height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

function pngGray(data: Uint8Array, width: number, height: number): Promise<Buffer> {
  // 'b-w' keeps one channel: sharp would otherwise write RGB, which label-map readers refuse.
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

function checkOptions(o: SynthOptions): Required<Pick<SynthOptions, 'seed' | 'size'>> & SceneOptions {
  const size = o.size ?? 256;
  const kinds = [...(o.kinds ?? DEFAULT_KINDS)];
  const scene: SceneOptions = {
    width: size,
    height: size,
    kinds,
    minObjects: o.minObjects ?? SCENE_DEFAULTS.minObjects,
    maxObjects: o.maxObjects ?? SCENE_DEFAULTS.maxObjects,
    minSize: o.minSize ?? SCENE_DEFAULTS.minSize,
    maxSize: o.maxSize ?? SCENE_DEFAULTS.maxSize,
    minVisible: o.minVisible ?? SCENE_DEFAULTS.minVisible,
  };
  if (!Number.isInteger(o.n) || o.n < 1) throw new UserError(`--n expects a positive integer, got ${o.n}`);
  if (!Number.isInteger(size) || size < 32 || size > 4096) throw new UserError(`--size expects an integer in 32..4096, got ${size}`);
  if (kinds.length === 0 || new Set(kinds).size !== kinds.length) throw new UserError('--kinds expects distinct shape kinds');
  if (kinds.length > PALETTE.length - 1) throw new UserError(`--kinds: at most ${PALETTE.length - 1} kinds`);
  if (!(scene.minObjects >= 0 && scene.maxObjects >= scene.minObjects && Number.isInteger(scene.minObjects) && Number.isInteger(scene.maxObjects))) {
    throw new UserError(`--min-objects / --max-objects: need integers with 0 ≤ min ≤ max (got ${scene.minObjects}, ${scene.maxObjects})`);
  }
  if (!(scene.minSize > 0 && scene.maxSize >= scene.minSize && scene.maxSize <= 1)) throw new UserError(`--min-size / --max-size: need 0 < min ≤ max ≤ 1 (fractions of the image side; got ${scene.minSize}, ${scene.maxSize})`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserError(`--seed expects an integer in 0..4294967295, got ${seed}`);
  return { ...scene, seed, size };
}

/** Refuses to mix a new dataset into an existing one unless `overwrite`. */
function prepareFolder(out: string, task: SynthTask, overwrite: boolean): void {
  const dirs = task === 'det' ? ['images'] : ['images', 'annotations'];
  for (const d of dirs) {
    const p = join(out, d);
    if (existsSync(p) && readdirSync(p).length > 0 && !overwrite) {
      throw new UserError(`${p} is not empty: choose another --out, or pass --overwrite to replace the dataset`);
    }
  }
  try {
    for (const d of dirs) mkdirSync(join(out, d), { recursive: true });
  } catch (e) {
    throw new UserError(`${out}: cannot create the dataset folders (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** After an overwrite: removes images / label maps numbered ≥ n left from a larger earlier dataset. */
function removeStale(out: string, task: SynthTask, n: number): void {
  for (const d of task === 'det' ? ['images'] : ['images', 'annotations']) {
    for (const f of readdirSync(join(out, d))) {
      const m = /^(\d{6,})\.png$/.exec(f);
      if (m && Number(m[1]) >= n) rmSync(join(out, d, f));
    }
  }
}

/** Generates and writes the dataset described by `opts`. */
export async function writeSynthDataset(opts: SynthOptions): Promise<SynthSummary> {
  const o = checkOptions(opts);
  prepareFolder(opts.out, opts.task, opts.overwrite ?? false);
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  let objects = 0;
  let done = 0;
  for (let start = 0; start < opts.n; start += CONCURRENCY) {
    const batch = [];
    for (let i = start; i < Math.min(opts.n, start + CONCURRENCY); i++) {
      const scene = generateScene(o.seed, i, o);
      objects += scene.instances.length;
      const name = imageName(i);
      if (opts.task === 'det') {
        images.push({ id: i + 1, file_name: name, width: scene.width, height: scene.height });
        for (const inst of scene.instances) {
          const rle = encodeMask(inst.mask, scene.height, scene.width);
          annotations.push({
            id: annotations.length + 1, image_id: i + 1, category_id: inst.category,
            bbox: rleToBbox(rle), area: rleArea(rle), iscrowd: 0, segmentation: compressRle(rle),
          });
        }
      }
      batch.push((async () => {
        await writeFileAtomic(join(opts.out, 'images', name), await pngRgb(scene));
        if (opts.task === 'seg') await writeFileAtomic(join(opts.out, 'annotations', name), await pngGray(scene.labels, scene.width, scene.height));
        opts.onProgress?.(++done);
      })());
    }
    await Promise.all(batch);
  }
  if (opts.overwrite) removeStale(opts.out, opts.task, opts.n);
  const info = { description: 'convnext synthetic shapes', seed: o.seed, size: o.size, images: opts.n, kinds: o.kinds, min_objects: o.minObjects, max_objects: o.maxObjects, min_size: o.minSize, max_size: o.maxSize };
  let index: string;
  if (opts.task === 'det') {
    const categories: CocoCategory[] = o.kinds.map((k, i) => ({ id: i + 1, name: k, supercategory: 'shape' }));
    index = join(opts.out, 'annotations.json');
    await writeFileAtomic(index, `${JSON.stringify({ info, images, annotations, categories })}\n`);
  } else {
    index = join(opts.out, 'classes.json');
    const classes = { classes: ['background', ...o.kinds], palette: PALETTE.slice(0, o.kinds.length + 1), ignore_index: 255, reduce_zero_label: false, info };
    await writeFileAtomic(index, `${JSON.stringify(classes, null, 2)}\n`);
  }
  return { task: opts.task, images: opts.n, objects, kinds: [...o.kinds], index };
}
