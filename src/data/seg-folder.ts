/**
 * Segmentation folders for training: `images/` and `annotations/` with the same relative paths
 * (label maps as PNG), the layout `convnext eval` reads and `convnext synth --task seg` writes.
 * The list is validated when loaded (no images, a missing label map); label values are checked
 * against the config's classes as each map is read.
 */
import { UserError } from '../core/errors.js';
import { listSegSamples, readLabelMap, type SegSample } from '../io/seg-dataset.js';

export type { SegSample };

export interface SegDataset {
  source: string;
  samples: SegSample[];
}

/** Lists the samples of `root` (a UserError when empty or incomplete). */
export function loadSegDataset(root: string): SegDataset {
  return { source: root, samples: listSegSamples(root) };
}

/**
 * Reads a label map as training labels: with `reduceZeroLabel`, 0 becomes 255 (ignored) and every
 * other value v below 255 becomes v − 1 (mmseg); values must then be a class or the ignore index.
 */
export function readTrainLabels(file: string, numClasses: number, ignoreIndex: number, reduceZeroLabel: boolean): { width: number; height: number; data: Uint8Array } {
  const m = readLabelMap(file);
  const out = new Uint8Array(m.data.length);
  for (let i = 0; i < m.data.length; i++) {
    let v = m.data[i];
    // mmseg (uint8 arithmetic): 0 → 255, 255 stays 255, v → v − 1.
    if (reduceZeroLabel) v = v === 0 || v === 255 ? 255 : v - 1;
    if (v !== ignoreIndex && v >= numClasses) {
      throw new UserError(`${file}: label ${m.data[i]} at pixel (${i % m.width}, ${Math.floor(i / m.width)}) is outside the config's ${numClasses} classes (and is not the ignore index ${ignoreIndex})`);
    }
    if (v > 255) throw new UserError(`${file}: label ${v} does not fit training labels (0..255)`);
    out[i] = v;
  }
  return { width: m.width, height: m.height, data: out };
}
