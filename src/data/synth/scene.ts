/**
 * One synthetic scene: a textured background (solid, gradient, stripes, checker or smooth blobs)
 * with shapes of varied kinds, sizes and colours painted over each other, plus pixel noise. Each
 * shape's visible mask is exact (the pixels it owns after later shapes are painted); occlusion is
 * bounded so that every shape keeps a given share of its area. Image `index` of seed `seed` is the
 * same whatever the dataset size.
 */
import { colourDistance, Random, type Rgb } from './random.js';
import { makeShape, rasterise, type ShapeKind } from './shapes.js';

export interface SceneOptions {
  width: number;
  height: number;
  /** Kinds drawn; category id = position + 1 (0 is the background). */
  kinds: readonly ShapeKind[];
  minObjects: number;
  maxObjects: number;
  /** Shape diameter range as a fraction of the shorter image side. */
  minSize: number;
  maxSize: number;
  /** Smallest visible share of a shape's area once shapes above it are painted. */
  minVisible: number;
}

export const SCENE_DEFAULTS = { minObjects: 1, maxObjects: 6, minSize: 0.12, maxSize: 0.45, minVisible: 0.6 } as const;

/** A shape as it appears in the image. */
export interface SceneInstance {
  kind: ShapeKind;
  /** 1-based category (position in `kinds` + 1). */
  category: number;
  /** Visible pixels, row-major, 1 inside. */
  mask: Uint8Array;
  /** Number of visible pixels. */
  area: number;
  colour: Rgb;
}

export interface Scene {
  width: number;
  height: number;
  /** Interleaved RGB, row-major. */
  rgb: Uint8Array;
  /** Per pixel: the category of the shape on top, 0 for background. */
  labels: Uint8Array;
  /** Shapes in painting order (later ones on top). */
  instances: SceneInstance[];
}

type Background = 'solid' | 'gradient' | 'stripes' | 'checker' | 'blobs';
const BACKGROUNDS: readonly Background[] = ['solid', 'gradient', 'stripes', 'checker', 'blobs'];

/** Paints a background into a float RGB buffer; returns the colours it uses (for contrast checks). */
function paintBackground(buf: Float32Array, w: number, h: number, rand: Random): Rgb[] {
  const kind = rand.pick(BACKGROUNDS);
  const c1 = rand.colour([0, 0.6], [0.15, 1]);
  const c2 = rand.colour([0, 0.6], [0.15, 1]);
  const theta = rand.uniform(0, Math.PI);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const period = rand.uniform(8, 32);
  const set = (i: number, c: readonly number[]) => {
    buf[3 * i] = c[0];
    buf[3 * i + 1] = c[1];
    buf[3 * i + 2] = c[2];
  };
  const mix = (t: number): number[] => [0, 1, 2].map((k) => c1[k] + (c2[k] - c1[k]) * t);
  if (kind === 'blobs') {
    // A coarse grid of blend factors, bilinearly upsampled: smooth patches between c1 and c2.
    const gx = rand.int(3, 7);
    const gy = rand.int(3, 7);
    const grid = Array.from({ length: (gx + 1) * (gy + 1) }, () => rand.float());
    for (let y = 0; y < h; y++) {
      const fy = (y / h) * gy;
      const y0 = Math.floor(fy);
      const ty = fy - y0;
      for (let x = 0; x < w; x++) {
        const fx = (x / w) * gx;
        const x0 = Math.floor(fx);
        const tx = fx - x0;
        const g = (i: number, j: number) => grid[j * (gx + 1) + i];
        const t = (g(x0, y0) * (1 - tx) + g(x0 + 1, y0) * tx) * (1 - ty) + (g(x0, y0 + 1) * (1 - tx) + g(x0 + 1, y0 + 1) * tx) * ty;
        set(y * w + x, mix(t));
      }
    }
    return [c1, c2];
  }
  const diag = Math.hypot(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (kind === 'solid') set(i, c1);
      else if (kind === 'gradient') set(i, mix(((x - w / 2) * cos + (y - h / 2) * sin) / diag + 0.5));
      else if (kind === 'stripes') set(i, Math.floor((x * cos + y * sin) / period) % 2 === 0 ? c1 : c2);
      else set(i, (Math.floor(x / period) + Math.floor(y / period)) % 2 === 0 ? c1 : c2);
    }
  }
  return kind === 'solid' ? [c1] : [c1, c2];
}

/** A shape colour far from the background colours and from the shapes already drawn (best of a few tries). */
function shapeColour(rand: Random, avoid: readonly Rgb[], taken: readonly Rgb[]): Rgb {
  let best: Rgb = rand.colour();
  let bestScore = -1;
  for (let t = 0; t < 24; t++) {
    const c = rand.colour();
    const score = Math.min(...avoid.map((a) => colourDistance(a, c)), ...taken.map((a) => colourDistance(a, c) * 1.5));
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
    if (score >= 110) break;
  }
  return best;
}

/** Generates image `index` of the dataset with seed `seed`. */
export function generateScene(seed: number, index: number, opts: SceneOptions): Scene {
  const { width: w, height: h } = opts;
  const rand = Random.forImage(seed, index);
  const buf = new Float32Array(w * h * 3);
  const bgColours = paintBackground(buf, w, h, rand);
  const owner = new Int32Array(w * h).fill(-1);
  const full: number[] = [];
  const visible: number[] = [];
  const placed: Array<{ kind: ShapeKind; colour: Rgb; cx: number; cy: number; r: number; shade: [number, number] }> = [];
  const side = Math.min(w, h);
  const count = rand.int(opts.minObjects, opts.maxObjects);
  for (let k = 0; k < count; k++) {
    const kind = rand.pick(opts.kinds);
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = (rand.uniform(opts.minSize, opts.maxSize) * side) / 2;
      const shape = makeShape(kind, rand.uniform(0, w), rand.uniform(0, h), r, rand);
      const b = shape.bounds;
      if (b.x0 < 0 || b.y0 < 0 || b.x1 > w || b.y1 > h) continue;
      const mask = rasterise(shape, w, h);
      let area = 0;
      const covered = new Array<number>(placed.length).fill(0);
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        area++;
        if (owner[i] >= 0) covered[owner[i]]++;
      }
      if (area < 24) continue;
      if (covered.some((c, j) => visible[j] - c < opts.minVisible * full[j])) continue;
      const id = placed.length;
      for (let i = 0; i < mask.length; i++) if (mask[i]) owner[i] = id;
      covered.forEach((c, j) => (visible[j] -= c));
      full.push(area);
      visible.push(area);
      const colour = shapeColour(rand, bgColours, placed.map((p) => p.colour));
      // A gentle linear shading across the shape (±12 %) so fills are not flat.
      const a = rand.uniform(0, 2 * Math.PI);
      placed.push({ kind, colour, cx: shape.cx, cy: shape.cy, r, shade: [(Math.cos(a) * 0.12) / r, (Math.sin(a) * 0.12) / r] });
      break;
    }
  }
  const noise = rand.uniform(0, 10);
  const rgb = new Uint8Array(w * h * 3);
  const labels = new Uint8Array(w * h);
  const category = placed.map((p) => opts.kinds.indexOf(p.kind) + 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const o = owner[i];
      for (let c = 0; c < 3; c++) {
        let v = buf[3 * i + c];
        if (o >= 0) {
          const p = placed[o];
          v = p.colour[c] * (1 + (x - p.cx) * p.shade[0] + (y - p.cy) * p.shade[1]);
        }
        rgb[3 * i + c] = Math.max(0, Math.min(255, Math.round(v + (rand.float() * 2 - 1) * noise)));
      }
      labels[i] = o >= 0 ? category[o] : 0;
    }
  }
  const instances: SceneInstance[] = placed.map((p, j) => {
    const mask = new Uint8Array(w * h);
    for (let i = 0; i < owner.length; i++) if (owner[i] === j) mask[i] = 1;
    return { kind: p.kind, category: category[j], mask, area: visible[j], colour: p.colour };
  });
  return { width: w, height: h, rgb, labels, instances };
}
