/**
 * The box coders of ./coder.ts on the host, one box at a time, in float32 and each library's
 * operation order: encoding (training targets) and decoding (training proposals, cascade
 * refinement). ./coder.ts decodes on an engine at test time.
 */
import type { BoxCoderOptions } from './coder.js';

const f = Math.fround;

/** Encodes the targets `gt` [R·4] relative to `boxes` [R·4] as deltas [R·4] with `coder`. */
export function encodeBoxes(boxes: ArrayLike<number>, gt: ArrayLike<number>, coder: BoxCoderOptions): Float32Array {
  const r = boxes.length / 4;
  const out = new Float32Array(4 * r);
  for (let i = 0; i < r; i++) {
    const [px1, py1, px2, py2] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
    const [gx1, gy1, gx2, gy2] = [gt[4 * i], gt[4 * i + 1], gt[4 * i + 2], gt[4 * i + 3]];
    if (coder.type === 'mmdet') {
      const px = f(f(px1 + px2) * 0.5);
      const py = f(f(py1 + py2) * 0.5);
      const pw = f(px2 - px1);
      const ph = f(py2 - py1);
      const gx = f(f(gx1 + gx2) * 0.5);
      const gy = f(f(gy1 + gy2) * 0.5);
      const gw = f(gx2 - gx1);
      const gh = f(gy2 - gy1);
      const d = [f(f(gx - px) / pw), f(f(gy - py) / ph), f(Math.log(f(gw / pw))), f(Math.log(f(gh / ph)))];
      for (let k = 0; k < 4; k++) out[4 * i + k] = f(f(d[k] - coder.means[k]) / coder.stds[k]);
    } else {
      const [wx, wy, ww, wh] = coder.weights;
      const ew = f(px2 - px1);
      const eh = f(py2 - py1);
      const ex = f(px1 + f(0.5 * ew));
      const ey = f(py1 + f(0.5 * eh));
      const gw = f(gx2 - gx1);
      const gh = f(gy2 - gy1);
      const gx = f(gx1 + f(0.5 * gw));
      const gy = f(gy1 + f(0.5 * gh));
      out[4 * i] = f(f(wx * f(gx - ex)) / ew);
      out[4 * i + 1] = f(f(wy * f(gy - ey)) / eh);
      out[4 * i + 2] = f(ww * f(Math.log(f(gw / ew))));
      out[4 * i + 3] = f(wh * f(Math.log(f(gh / eh))));
    }
  }
  return out;
}

/** Decodes one delta row against one box (float32, each library's operation order); no clipping. */
export function decodeBox(d: ArrayLike<number>, b: ArrayLike<number>, coder: BoxCoderOptions): [number, number, number, number] {
  if (coder.type === 'mmdet') {
    const [dx, dy, dw0, dh0] = [0, 1, 2, 3].map((i) => f(f(d[i] * coder.stds[i]) + coder.means[i]));
    const px = f(f(b[0] + b[2]) * 0.5);
    const py = f(f(b[1] + b[3]) * 0.5);
    const pw = f(b[2] - b[0]);
    const ph = f(b[3] - b[1]);
    const dw = Math.min(Math.max(dw0, -coder.clip), coder.clip);
    const dh = Math.min(Math.max(dh0, -coder.clip), coder.clip);
    const gw = f(pw * f(Math.exp(dw)));
    const gh = f(ph * f(Math.exp(dh)));
    const gx = f(px + f(pw * dx));
    const gy = f(py + f(ph * dy));
    return [f(gx - f(gw * 0.5)), f(gy - f(gh * 0.5)), f(gx + f(gw * 0.5)), f(gy + f(gh * 0.5))];
  }
  const [dx, dy, dw0, dh0] = [0, 1, 2, 3].map((i) => f(d[i] / coder.weights[i]));
  const w = f(b[2] - b[0]);
  const h = f(b[3] - b[1]);
  const cx = f(b[0] + f(w * 0.5));
  const cy = f(b[1] + f(h * 0.5));
  const dw = Math.min(dw0, coder.clip);
  const dh = Math.min(dh0, coder.clip);
  const pcx = f(f(dx * w) + cx);
  const pcy = f(f(dy * h) + cy);
  const hw = f(f(f(Math.exp(dw)) * w) * 0.5);
  const hh = f(f(f(Math.exp(dh)) * h) * 0.5);
  return [f(pcx - hw), f(pcy - hh), f(pcx + hw), f(pcy + hh)];
}
