/** Finding image files: one file, or a folder's images by extension. */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileError, UserError } from '../core/errors.js';

/** Extensions read as images: the formats sharp decodes (not BMP, which it cannot read). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Whether a file name has an image extension. */
export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/**
 * Image files of one or more paths (as a shell expands `a/*.png`): each file itself, or a folder's
 * images sorted by name, in the order given; a file named twice is read once.
 */
export function imageFiles(paths: string | readonly string[]): string[] {
  const list = typeof paths === 'string' ? [paths] : paths;
  return [...new Set(list.flatMap(filesOf))];
}

/** Image files of one path: the file itself, or a folder's images sorted by name. */
function filesOf(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new UserError(`--image ${path}: no such file or folder`);
    throw fileError(`--image ${path}`, e);
  }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path).filter(isImageFile).sort().map((f) => join(path, f));
  if (files.length === 0) throw new UserError(`--image ${path}: the folder has no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
  return files;
}

/**
 * Output name stems for input images: the file name without its extension, except where two inputs
 * share a stem (a.jpg and a.png), which then both keep their extension. Same order as `files`.
 */
export function outputStems(files: readonly string[]): string[] {
  const stems = files.map((file) => basename(file, extname(file)));
  const count = new Map<string, number>();
  for (const s of stems) count.set(s, (count.get(s) ?? 0) + 1);
  return stems.map((s, i) => ((count.get(s) ?? 0) > 1 ? basename(files[i]) : s));
}
