/**
 * The shape kinds of the synthetic datasets and their rasterisation: a pixel belongs to a shape
 * when its centre (x + ½, y + ½) lies inside it (analytic for circles and ellipses, even-odd rule
 * for polygons). Masks are exact by construction; annotations are derived from them.
 */
import type { Random } from './random.js';

export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'star', 'hexagon', 'ellipse'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

/** The kinds used unless chosen otherwise: the four most distinct ones. */
export const DEFAULT_KINDS: readonly ShapeKind[] = ['circle', 'square', 'triangle', 'star'];

/** A placed shape: its kind, centre, size (circumradius) and the inside test. */
export interface Shape {
  kind: ShapeKind;
  cx: number;
  cy: number;
  /** Circumradius in pixels (half the side span for the axis of the largest extent). */
  r: number;
  /** Rotation in radians. */
  angle: number;
  /** Whether the point (x, y) (pixel coordinates, continuous) is inside. */
  contains(x: number, y: number): boolean;
  /** Bounds of the shape (may exceed the image). */
  bounds: { x0: number; y0: number; x1: number; y1: number };
}

function regularPolygon(n: number, cx: number, cy: number, r: number, angle: number): number[] {
  const pts: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = angle + (2 * Math.PI * i) / n;
    pts.push(cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  return pts;
}

function star(cx: number, cy: number, r: number, inner: number, angle: number): number[] {
  const pts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const a = angle + (Math.PI * i) / 5;
    const rr = i % 2 === 0 ? r : r * inner;
    pts.push(cx + rr * Math.cos(a), cy + rr * Math.sin(a));
  }
  return pts;
}

/** Even-odd point-in-polygon test on a flat [x0, y0, x1, y1, …] list. */
export function insidePolygon(pts: readonly number[], x: number, y: number): boolean {
  let inside = false;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = pts[2 * i];
    const yi = pts[2 * i + 1];
    const xj = pts[2 * j];
    const yj = pts[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygonBounds(pts: readonly number[]): Shape['bounds'] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    x0 = Math.min(x0, pts[i]);
    x1 = Math.max(x1, pts[i]);
    y0 = Math.min(y0, pts[i + 1]);
    y1 = Math.max(y1, pts[i + 1]);
  }
  return { x0, y0, x1, y1 };
}

/** A shape of `kind` centred at (cx, cy) with circumradius r; random rotation and proportions from `rand`. */
export function makeShape(kind: ShapeKind, cx: number, cy: number, r: number, rand: Random): Shape {
  const angle = rand.uniform(0, 2 * Math.PI);
  const base = { kind, cx, cy, r, angle };
  if (kind === 'circle') {
    const r2 = r * r;
    return { ...base, angle: 0, contains: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r2, bounds: { x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r } };
  }
  if (kind === 'ellipse') {
    // Semi-axes r and r / aspect (aspect 1.6 … 2.4 keeps ellipses apart from circles).
    const b = r / rand.uniform(1.6, 2.4);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const ex = Math.sqrt((r * cos) ** 2 + (b * sin) ** 2);
    const ey = Math.sqrt((r * sin) ** 2 + (b * cos) ** 2);
    return {
      ...base,
      contains: (x, y) => {
        const u = (x - cx) * cos + (y - cy) * sin;
        const v = -(x - cx) * sin + (y - cy) * cos;
        return (u / r) ** 2 + (v / b) ** 2 <= 1;
      },
      bounds: { x0: cx - ex, y0: cy - ey, x1: cx + ex, y1: cy + ey },
    };
  }
  const pts = kind === 'square' ? regularPolygon(4, cx, cy, r, angle)
    : kind === 'triangle' ? regularPolygon(3, cx, cy, r, angle)
    : kind === 'hexagon' ? regularPolygon(6, cx, cy, r, angle)
    : star(cx, cy, r, rand.uniform(0.42, 0.55), angle);
  return { ...base, contains: (x, y) => insidePolygon(pts, x, y), bounds: polygonBounds(pts) };
}

/** The shape's mask on a width × height grid (1 inside), by pixel centres. */
export function rasterise(shape: Shape, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const x0 = Math.max(0, Math.floor(shape.bounds.x0));
  const x1 = Math.min(width - 1, Math.ceil(shape.bounds.x1));
  const y0 = Math.max(0, Math.floor(shape.bounds.y0));
  const y1 = Math.min(height - 1, Math.ceil(shape.bounds.y1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) if (shape.contains(x + 0.5, y + 0.5)) mask[y * width + x] = 1;
  }
  return mask;
}
