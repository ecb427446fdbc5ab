/**
 * COCO run-length encoding, compatible bit for bit with pycocotools (`maskApi.c`).
 *
 * An RLE walks the mask in column-major (Fortran) order — down the first column, then the
 * second, … — and stores alternating run lengths, starting with a run of 0s (possibly empty).
 * The compressed `counts` string stores each count (from the fourth on, as the difference to
 * the count two before) in 5-bit groups, little end first, one character per group (ASCII
 * 48 + group, +32 when more groups follow; the top bit of the last group is the sign).
 */
import { UserError } from '../../core/errors.js';
import { limits, overLimit } from '../../core/limits.js';

/** An uncompressed RLE: image height and width, and the run lengths (column-major). */
export interface Rle {
  h: number;
  w: number;
  counts: Uint32Array;
}

/** COCO's compressed RLE object as it appears in JSON. */
export interface CompressedRle {
  size: [number, number];
  counts: string;
}

/** COCO's uncompressed RLE object (`iscrowd` annotations use it). */
export interface UncompressedRle {
  size: [number, number];
  counts: number[];
}

/** A box `[x, y, width, height]` (COCO's xywh). */
export type Xywh = [number, number, number, number];

const U32 = 2 ** 32;

/** Wraps to an unsigned 32-bit integer as a C `(uint)` cast does. */
function u32(x: number): number {
  return ((x % U32) + U32) % U32;
}

/**
 * Encodes a binary mask given in row-major order (`mask[y * w + x]`, nonzero = 1) — the
 * layout of our label maps and host tensors — as COCO RLE (`maskUtils.encode`).
 */
export function encodeMask(mask: ArrayLike<number>, h: number, w: number): Rle {
  if (mask.length !== h * w) {
    throw new Error(`encodeMask: ${mask.length} values do not fill ${h}x${w}`);
  }
  const counts: number[] = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x] !== 0 ? 1 : 0;
      if (v !== p) {
        counts.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  counts.push(c);
  return { h, w, counts: Uint32Array.from(counts) };
}

/** Decodes an RLE to a row-major `h × w` mask of 0/1 (`maskUtils.decode`). */
export function decodeRle(rle: Rle): Uint8Array {
  const { h, w, counts } = rle;
  let total = 0;
  for (const c of counts) total += c;
  if (total !== h * w) {
    throw new UserError(`RLE counts sum to ${total}, expected ${h}x${w} = ${h * w}`);
  }
  const out = new Uint8Array(h * w);
  let k = 0;
  let v = 0;
  for (const c of counts) {
    if (v) {
      for (let j = k; j < k + c; j++) {
        const y = j % h;
        out[y * w + (j - y) / h] = 1;
      }
    }
    k += c;
    v ^= 1;
  }
  return out;
}

/** The compressed `counts` string of an RLE (maskApi.c `rleToString`). */
export function rleToString(counts: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // x & 0x1f for two's-complement x
      x = Math.floor(x / 32); // arithmetic x >>= 5
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** Parses a compressed `counts` string (maskApi.c `rleFrString`). */
export function rleFromString(s: string, h: number, w: number): Rle {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new UserError(`RLE counts string ends inside a value: "${clip(s)}"`);
      const code = s.charCodeAt(p);
      if (code < 48 || code > 111) {
        throw new UserError(`RLE counts string has an invalid character '${s[p]}' at ${p}`);
      }
      const c = code - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k);
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2];
    counts.push(u32(x));
  }
  return { h, w, counts: Uint32Array.from(counts) };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** RLE → COCO's compressed JSON object. */
export function compressRle(rle: Rle): CompressedRle {
  return { size: [rle.h, rle.w], counts: rleToString(rle.counts) };
}

/** COCO's compressed JSON object → RLE. */
export function decompressRle(obj: CompressedRle): Rle {
  return rleFromString(obj.counts, obj.size[0], obj.size[1]);
}

/** COCO's uncompressed JSON object → RLE (counts cast to uint32 as pycocotools does). */
export function fromUncompressed(obj: UncompressedRle): Rle {
  return { h: obj.size[0], w: obj.size[1], counts: Uint32Array.from(obj.counts, u32) };
}

/** Number of 1 pixels (`maskUtils.area`). */
export function rleArea(rle: Rle): number {
  let a = 0;
  for (let j = 1; j < rle.counts.length; j += 2) a += rle.counts[j];
  return a;
}

/**
 * Tight box `[x, y, w, h]` of the 1 pixels (`maskUtils.toBbox`, as in the pycocotools 2.0.x
 * releases on PyPI): a run of 1s crossing a column boundary spans the full height, empty runs
 * are skipped, and an RLE with fewer than two counts gives [0, 0, 0, 0]. (An RLE whose runs
 * of 1s are all empty wraps like the C code's unsigned arithmetic.)
 */
export function rleToBbox(rle: Rle): Xywh {
  const { h, w, counts } = rle;
  const m = Math.floor(counts.length / 2) * 2;
  if (m === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  for (let j = 0; j < m; j++) {
    const start = cc;
    cc = u32(cc + counts[j]);
    if (j % 2 === 0 || counts[j] === 0) continue;
    const yStart = start % h;
    const xStart = (start - yStart) / h;
    const last = u32(cc - 1);
    const yEnd = last % h;
    const xEnd = (last - yEnd) / h;
    xs = Math.min(xs, xStart);
    xe = Math.max(xe, xEnd);
    if (xStart < xEnd) {
      ys = 0;
      ye = h - 1;
    } else {
      ys = Math.min(ys, yStart);
      ye = Math.max(ye, yEnd);
    }
  }
  return [xs, ys, u32(xe - xs + 1), u32(ye - ys + 1)];
}

/**
 * Rasterises a polygon `[x0, y0, x1, y1, …]` (pixel coordinates, pixel centres at integers)
 * like maskApi.c `rleFrPoly`: the outline is traced on a 5× upsampled grid, the points where
 * it crosses pixel-centre columns are kept, and the column intervals between them are filled.
 */
/** Points a reader may still trace rasterising polygons (shared by all polygons of one file). */
export interface TraceBudget {
  left: number;
}

export function rleFrPoly(xy: ArrayLike<number>, h: number, w: number, budget?: TraceBudget): Rle {
  const scale = 5;
  const k = Math.floor(xy.length / 2);
  if (k === 0) throw new UserError('polygon has no points');
  const x = new Array<number>(k + 1);
  const y = new Array<number>(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * xy[j * 2] + 0.5);
  x[k] = x[0];
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * xy[j * 2 + 1] + 0.5);
  y[k] = y[0];
  let traced = 0;
  for (let j = 0; j < k; j++) traced += Math.max(Math.abs(x[j + 1] - x[j]), Math.abs(y[j + 1] - y[j])) + 1;
  const left = budget ? budget.left : limits().coco_polygon_points;
  if (!(traced <= left)) {
    throw overLimit('coco_polygon_points', budget ? `polygons tracing more than ${limits().coco_polygon_points} points on the 5× grid in one file` : `polygon outline of ${traced} points on the 5× grid`);
  }
  if (budget) budget.left -= traced;
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    // dx = dy = 0 gives 0/0 = NaN here; maskApi.c then stores an undefined v that is never read
    // (both neighbours share its u), and the same holds for the NaN we store.
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  // Points where the outline crosses a pixel-centre column, downsampled.
  const a: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a.push(u32(xd * h + yd));
  }
  a.push(h * w);
  a.sort((p, q) => p - q);
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= prev;
    prev = t;
  }
  const b: number[] = [a[0]];
  let j = 1;
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return { h, w, counts: Uint32Array.from(b) };
}

/** Box `[x, y, w, h]` → RLE, through the polygon of its four corners (`rleFrBbox`). */
export function rleFrBbox(bb: ArrayLike<number>, h: number, w: number, budget?: TraceBudget): Rle {
  const xs = bb[0];
  const xe = xs + bb[2];
  const ys = bb[1];
  const ye = ys + bb[3];
  return rleFrPoly([xs, ys, xs, ye, xe, ye, xe, ys], h, w, budget);
}

/**
 * Union (or intersection) of RLEs of one size (`maskUtils.merge`). Zero RLEs give an empty
 * 0×0 RLE; sizes that differ throw.
 */
export function mergeRles(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) return { h: 0, w: 0, counts: new Uint32Array(0) };
  const { h, w } = rles[0];
  if (rles.length === 1) return { h, w, counts: rles[0].counts.slice() };
  let cnts: number[] = Array.from(rles[0].counts);
  for (let i = 1; i < rles.length; i++) {
    const B = rles[i];
    if (B.h !== h || B.w !== w) {
      throw new Error(`mergeRles: RLE ${i} is ${B.h}x${B.w}, RLE 0 is ${h}x${w}`);
    }
    const A = cnts;
    const out: number[] = [];
    let ca = A[0];
    let cb = B.counts[0];
    let v = false;
    let va = false;
    let vb = false;
    let a = 1;
    let b = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < B.counts.length) {
        cb = B.counts[b++];
        vb = !vb;
      }
      ct += cb;
      const vp: boolean = v;
      v = intersect ? va && vb : va || vb;
      if (v !== vp || ct === 0) {
        out.push(cc);
        cc = 0;
      }
    }
    cnts = out;
  }
  return { h, w, counts: Uint32Array.from(cnts) };
}

/**
 * IoU between boxes (`maskUtils.iou` on xywh boxes): `result[d][g]`. Against a crowd ground
 * truth (iscrowd), the union is the detection's area alone.
 */
export function bboxIou(
  dts: readonly ArrayLike<number>[],
  gts: readonly ArrayLike<number>[],
  iscrowd: readonly (boolean | number)[],
): Float64Array[] {
  const out = dts.map(() => new Float64Array(gts.length));
  for (let g = 0; g < gts.length; g++) {
    const G = gts[g];
    const ga = G[2] * G[3];
    const crowd = Boolean(iscrowd[g]);
    for (let d = 0; d < dts.length; d++) {
      const D = dts[d];
      const da = D[2] * D[3];
      const iw = Math.min(D[2] + D[0], G[2] + G[0]) - Math.max(D[0], G[0]);
      if (iw <= 0) continue;
      const ih = Math.min(D[3] + D[1], G[3] + G[1]) - Math.max(D[1], G[1]);
      if (ih <= 0) continue;
      const i = iw * ih;
      out[d][g] = i / (crowd ? da : da + ga - i);
    }
  }
  return out;
}

/**
 * IoU between RLE masks (`maskUtils.iou` on RLEs): `result[d][g]`; 0 when the boxes do not
 * overlap, −1 when sizes differ, and intersection / detection area against a crowd region.
 */
export function rleIou(
  dts: readonly Rle[],
  gts: readonly Rle[],
  iscrowd: readonly (boolean | number)[],
): Float64Array[] {
  const out = bboxIou(dts.map(rleToBbox), gts.map(rleToBbox), iscrowd);
  for (let g = 0; g < gts.length; g++) {
    const G = gts[g];
    const crowd = Boolean(iscrowd[g]);
    for (let d = 0; d < dts.length; d++) {
      if (!(out[d][g] > 0)) continue;
      const D = dts[d];
      if (D.h !== G.h || D.w !== G.w) {
        out[d][g] = -1;
        continue;
      }
      const A = D.counts;
      const B = G.counts;
      let ca = A[0];
      let cb = B[0];
      let va = false;
      let vb = false;
      let a = 1;
      let b = 1;
      let inter = 0;
      let union = 0;
      let ct = 1;
      while (ct > 0) {
        const c = Math.min(ca, cb);
        if (va || vb) {
          union += c;
          if (va && vb) inter += c;
        }
        ct = 0;
        ca -= c;
        if (!ca && a < A.length) {
          ca = A[a++];
          va = !va;
        }
        ct += ca;
        cb -= c;
        if (!cb && b < B.length) {
          cb = B[b++];
          vb = !vb;
        }
        ct += cb;
      }
      if (inter === 0) union = 1;
      else if (crowd) union = rleArea(D);
      out[d][g] = inter / union;
    }
  }
  return out;
}
