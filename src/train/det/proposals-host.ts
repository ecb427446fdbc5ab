/**
 * RPN proposals for training, on the host from the RPN outputs' values (they are detached, as in
 * mmdetection and torchvision): per level the `nmsPre` highest logits, their anchors decoded and
 * clipped to the image, small boxes dropped, NMS per level, the `maxPerImg` best kept. The same
 * steps as src/heads/rpn/proposals.ts, which runs them on an engine at test time.
 */
import { decodeBox } from '../../core/det/coder-host.js';
import { argsortDesc, batchedNmsHost } from '../../core/det/nms.js';
import type { ProposalOptions } from '../../heads/rpn/proposals.js';

const f = Math.fround;

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
