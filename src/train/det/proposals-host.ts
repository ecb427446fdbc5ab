/**
 * RPN proposals for training, on the host from the RPN outputs' values (they are detached, as in
 * mmdetection and torchvision): per level the `nmsPre` highest logits, their anchors decoded and
 * clipped to the image, small boxes dropped, NMS per level, the `maxPerImg` best kept. The same
 * steps as src/heads/rpn/proposals.ts, which runs them on an engine at test time.
 */
import type { BoxCoderOptions } from '../../heads/det/coder.js';
import { argsortDesc, batchedNmsHost } from '../../core/det/nms.js';
import type { ProposalOptions } from '../../heads/rpn/proposals.js';

const f = Math.fround;

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

/** One level's RPN outputs for one image: logits [K] and deltas [K·4] in anchor order, anchors [K·4]. */
export interface LevelOutputs {
  logits: ArrayLike<number>;
  deltas: ArrayLike<number>;
  anchors: ArrayLike<number>;
}

/** Proposals [P·4] of one image whose valid size is `size` = [height, width]. */
export function proposalsHost(levels: readonly LevelOutputs[], size: readonly [number, number], o: ProposalOptions): Float32Array {
  const boxes: number[] = [];
  const scores: number[] = [];
  const groups: number[] = [];
  const [h, w] = size;
  levels.forEach((lv, l) => {
    const order = argsortDesc(lv.logits).slice(0, o.nmsPre);
    for (const i of order) {
      const b = decodeBox([lv.deltas[4 * i], lv.deltas[4 * i + 1], lv.deltas[4 * i + 2], lv.deltas[4 * i + 3]], [lv.anchors[4 * i], lv.anchors[4 * i + 1], lv.anchors[4 * i + 2], lv.anchors[4 * i + 3]], o.coder);
      const x1 = Math.min(Math.max(b[0], 0), w);
      const y1 = Math.min(Math.max(b[1], 0), h);
      const x2 = Math.min(Math.max(b[2], 0), w);
      const y2 = Math.min(Math.max(b[3], 0), h);
      const bw = f(x2 - x1);
      const bh = f(y2 - y1);
      const ok = o.minSizeInclusive ? bw >= o.minSize && bh >= o.minSize : bw > o.minSize && bh > o.minSize;
      if (!ok) continue;
      boxes.push(x1, y1, x2, y2);
      scores.push(f(1 / (1 + Math.exp(-lv.logits[i]))));
      groups.push(l);
    }
  });
  const all = Float32Array.from(boxes);
  const keep = batchedNmsHost(all, scores, groups, o.iouThr, o.maxPerImg);
  const out = new Float32Array(keep.length * 4);
  keep.forEach((k, j) => out.set(all.subarray(4 * k, 4 * k + 4), 4 * j));
  return out;
}
