/**
 * Host-side steps of segmentation inference with mmsegmentation's semantics: sliding windows
 * (logits of overlapping crops summed and divided by the per-pixel count), bilinear resizing of
 * logits to the original size (align_corners=False, PyTorch's source-index rule), argmax, and
 * the softmax averaging of test-time augmentation. Logits are [C, H, W] planes (batch 1).
 */
import type { HostTensor } from '../../core/host-tensor.js';
import { type AxisWeights, axisWeights } from '../../image/resize.js';

/** Per-class score planes of one image: `data` is C × height × width, row-major. */
export interface ScoreMap {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** A label map: one class index per pixel (row-major). */
export interface Labels {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array;
}

/** A window [y1, y2) × [x1, x2). */
export interface Window {
  y1: number;
  y2: number;
  x1: number;
  x2: number;
}

/**
 * mmseg's slide windows: grids = max(H − crop + stride − 1, 0) // stride + 1 per axis; each
 * window is clipped to the image and shifted back to keep the crop size where the image allows.
 */
export function slideWindows(height: number, width: number, crop: readonly [number, number], stride: readonly [number, number]): Window[] {
  const [hc, wc] = crop;
  const [hs, ws] = stride;
  const hg = Math.floor(Math.max(height - hc + hs - 1, 0) / hs) + 1;
  const wg = Math.floor(Math.max(width - wc + ws - 1, 0) / ws) + 1;
  const out: Window[] = [];
  for (let i = 0; i < hg; i++) {
    for (let j = 0; j < wg; j++) {
      const y2 = Math.min(i * hs + hc, height);
      const x2 = Math.min(j * ws + wc, width);
      out.push({ y1: Math.max(y2 - hc, 0), y2, x1: Math.max(x2 - wc, 0), x2 });
    }
  }
  return out;
}

/** The [1, C, h, w] crop of an NCHW batch-1 tensor. */
export function cropTensor(x: HostTensor, w: Window): HostTensor {
  const [, c, h, wd] = x.shape;
  const ch = w.y2 - w.y1;
  const cw = w.x2 - w.x1;
  const out = new Float32Array(c * ch * cw);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < ch; y++) {
      const src = (k * h + w.y1 + y) * wd + w.x1;
      out.set(x.data.subarray(src, src + cw), (k * ch + y) * cw);
    }
  }
  return { shape: [1, c, ch, cw], data: out };
}

/** Zero-pads an NCHW batch-1 tensor at the bottom and right to at least `minH` × `minW`. */
export function padTensor(x: HostTensor, minH: number, minW: number): HostTensor {
  const [n, c, h, w] = x.shape;
  const ph = Math.max(h, minH);
  const pw = Math.max(w, minW);
  if (ph === h && pw === w) return x;
  const out = new Float32Array(n * c * ph * pw);
  for (let k = 0; k < n * c; k++) {
    for (let y = 0; y < h; y++) out.set(x.data.subarray((k * h + y) * w, (k * h + y + 1) * w), (k * ph + y) * pw);
  }
  return { shape: [n, c, ph, pw], data: out };
}

/** The top-left h × w part of a batch-1 [1, C, H, W] tensor as a score map. */
export function topLeft(x: HostTensor, h: number, w: number): ScoreMap {
  const [n, c, H, W] = x.shape;
  if (n !== 1) throw new Error(`expected batch 1, got ${n}`);
  if (H === h && W === w) return { channels: c, height: h, width: w, data: x.data };
  const out = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) out.set(x.data.subarray((k * H + y) * W, (k * H + y) * W + w), (k * h + y) * w);
  }
  return { channels: c, height: h, width: w, data: out };
}

/**
 * Slide inference: runs `infer` on every window, sums its logits into place and divides by how
 * many windows cover each pixel. `infer` may return logits at a lower resolution (the head's):
 * they are resized to the window (bilinear, align_corners=False) on the way, as mmseg's
 * encode_decode does before summing.
 */
export async function slideInference(
  input: HostTensor,
  crop: readonly [number, number],
  stride: readonly [number, number],
  infer: (crop: HostTensor) => Promise<ScoreMap>,
): Promise<ScoreMap> {
  const [, , h, w] = input.shape;
  let preds: Float32Array | null = null;
  let channels = 0;
  const count = new Uint16Array(h * w);
  for (const win of slideWindows(h, w, crop, stride)) {
    const logits = await infer(cropTensor(input, win));
    if (!preds) {
      channels = logits.channels;
      preds = new Float32Array(channels * h * w);
    }
    addResized(preds, h, w, win, logits);
    for (let y = win.y1; y < win.y2; y++) for (let x = win.x1; x < win.x2; x++) count[y * w + x]++;
  }
  if (!preds) throw new Error('slide inference: no windows');
  for (let k = 0; k < channels; k++) {
    const off = k * h * w;
    for (let i = 0; i < h * w; i++) preds[off + i] /= count[i];
  }
  return { channels, height: h, width: w, data: preds };
}

/** Adds `s`, resized to the window's size, into the window of `dst` (C × h × w planes). */
export function addResized(dst: Float32Array, h: number, w: number, win: Window, s: ScoreMap): void {
  const ch = win.y2 - win.y1;
  const cw = win.x2 - win.x1;
  const hy = axisWeights(s.height, ch);
  const ax = axisWeights(s.width, cw);
  const row = new Float64Array(cw);
  const inPlane = s.height * s.width;
  for (let k = 0; k < s.channels; k++) {
    const plane = s.data.subarray(k * inPlane, (k + 1) * inPlane);
    for (let y = 0; y < ch; y++) {
      resizeRow(plane, s.width, y, ax, hy, row);
      const d = (k * h + win.y1 + y) * w + win.x1;
      for (let x = 0; x < cw; x++) dst[d + x] += row[x];
    }
  }
}

/** One output row of one channel of the bilinear resize, written to `out` (length W). */
function resizeRow(plane: Float32Array, inW: number, ry: number, ax: AxisWeights, hy: AxisWeights, out: Float64Array | Float32Array, outOff = 0): void {
  const r0 = hy.i0[ry] * inW;
  const r1 = hy.i1[ry] * inW;
  const h0 = hy.w0[ry];
  const h1 = hy.w1[ry];
  const n = ax.i0.length;
  for (let x = 0; x < n; x++) {
    const a = ax.i0[x];
    const b = ax.i1[x];
    const w0 = ax.w0[x];
    const w1 = ax.w1[x];
    out[outOff + x] = (plane[r0 + a] * w0 + plane[r0 + b] * w1) * h0 + (plane[r1 + a] * w0 + plane[r1 + b] * w1) * h1;
  }
}

/** Bilinear resize (align_corners=False) of every channel to height × width. */
export function resizeScores(s: ScoreMap, height: number, width: number): ScoreMap {
  if (s.height === height && s.width === width) return s;
  const hy = axisWeights(s.height, height);
  const ax = axisWeights(s.width, width);
  const out = new Float32Array(s.channels * height * width);
  const inPlane = s.height * s.width;
  for (let k = 0; k < s.channels; k++) {
    const plane = s.data.subarray(k * inPlane, (k + 1) * inPlane);
    for (let y = 0; y < height; y++) resizeRow(plane, s.width, y, ax, hy, out, (k * height + y) * width);
  }
  return { channels: s.channels, height, width, data: out };
}

function labelArray(n: number, channels: number): Uint8Array | Uint16Array {
  return channels <= 256 ? new Uint8Array(n) : new Uint16Array(n);
}

/** Per-pixel argmax over channels (first maximum wins, as torch.argmax). */
export function argmax(s: ScoreMap): Labels {
  const n = s.height * s.width;
  const labels = labelArray(n, s.channels);
  const best = Float32Array.from(s.data.subarray(0, n));
  for (let k = 1; k < s.channels; k++) {
    const off = k * n;
    for (let i = 0; i < n; i++) {
      const v = s.data[off + i];
      if (v > best[i]) {
        best[i] = v;
        labels[i] = k;
      }
    }
  }
  return { width: s.width, height: s.height, data: labels };
}

/**
 * argmax(resize(s, height, width)) without materialising the resized scores: one output row
 * of all channels at a time.
 */
export function resizeArgmax(s: ScoreMap, height: number, width: number): Labels {
  if (s.height === height && s.width === width) return argmax(s);
  const hy = axisWeights(s.height, height);
  const ax = axisWeights(s.width, width);
  const labels = labelArray(height * width, s.channels);
  const row = new Float64Array(width);
  const best = new Float64Array(width);
  const inPlane = s.height * s.width;
  for (let y = 0; y < height; y++) {
    best.fill(-Infinity);
    const lrow = y * width;
    for (let k = 0; k < s.channels; k++) {
      resizeRow(s.data.subarray(k * inPlane, (k + 1) * inPlane), s.width, y, ax, hy, row);
      for (let x = 0; x < width; x++) {
        // The first maximum wins, as torch.argmax.
        if (row[x] > best[x]) {
          best[x] = row[x];
          labels[lrow + x] = k;
        }
      }
    }
  }
  return { width, height, data: labels };
}

/**
 * Adds softmax(resize(s, height, width)) over channels into `acc` (C × height × width), mirrored
 * left-right when `flip` (the scores of a flipped image, flipped back), as mmseg's TTA.
 */
export function accumulateSoftmax(acc: Float32Array, s: ScoreMap, height: number, width: number, flip: boolean): void {
  const C = s.channels;
  if (acc.length !== C * height * width) throw new Error('accumulateSoftmax: accumulator size mismatch');
  const hy = axisWeights(s.height, height);
  const ax = axisWeights(s.width, width);
  const rows = new Float64Array(C * width);
  const inPlane = s.height * s.width;
  const outPlane = height * width;
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < C; k++) resizeRow(s.data.subarray(k * inPlane, (k + 1) * inPlane), s.width, y, ax, hy, rows, k * width);
    for (let x = 0; x < width; x++) {
      let m = -Infinity;
      for (let k = 0; k < C; k++) m = Math.max(m, rows[k * width + x]);
      let sum = 0;
      for (let k = 0; k < C; k++) {
        const e = Math.exp(rows[k * width + x] - m);
        rows[k * width + x] = e;
        sum += e;
      }
      const dx = flip ? width - 1 - x : x;
      for (let k = 0; k < C; k++) acc[k * outPlane + y * width + dx] += rows[k * width + x] / sum;
    }
  }
}
