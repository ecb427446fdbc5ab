/**
 * Exact non-maximum suppression on host arrays, bit for bit as torchvision's CPU kernel
 * (`torchvision.ops.nms`): float32 areas and IoU, a box suppressed when IoU > threshold, greedy in
 * descending score order. `batchedNmsHost` is the vanilla per-group form of `batched_nms`.
 */

const f = Math.fround;

/** Indices kept by NMS among `order` (already sorted by score, descending). */
function nmsSorted(boxes: Float32Array, order: readonly number[], iouThr: number): number[] {
  const n = order.length;
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  const area = (i: number) => f(f(boxes[4 * i + 2] - boxes[4 * i]) * f(boxes[4 * i + 3] - boxes[4 * i + 1]));
  const areas = order.map(area);
  for (let a = 0; a < n; a++) {
    if (suppressed[a]) continue;
    const i = order[a];
    keep.push(i);
    const ix1 = boxes[4 * i];
    const iy1 = boxes[4 * i + 1];
    const ix2 = boxes[4 * i + 2];
    const iy2 = boxes[4 * i + 3];
    const iarea = areas[a];
    for (let b = a + 1; b < n; b++) {
      if (suppressed[b]) continue;
      const j = order[b];
      const w = Math.max(0, f(Math.min(ix2, boxes[4 * j + 2]) - Math.max(ix1, boxes[4 * j])));
      const h = Math.max(0, f(Math.min(iy2, boxes[4 * j + 3]) - Math.max(iy1, boxes[4 * j + 1])));
      const inter = f(w * h);
      const ovr = f(inter / f(f(iarea + areas[b]) - inter));
      if (ovr > iouThr) suppressed[b] = 1;
    }
  }
  return keep;
}

/** Indices 0..n−1 sorted by score descending (ties: lower index first). */
export function argsortDesc(scores: ArrayLike<number>, idx?: readonly number[]): number[] {
  const order = idx ? [...idx] : Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Per-group NMS: boxes [N·4] (x1, y1, x2, y2), scores [N], groups [N] (integers). Returns kept
 * indices by score descending, at most `maxOut`.
 */
export function batchedNmsHost(
  boxes: Float32Array, scores: ArrayLike<number>, groups: ArrayLike<number>, iouThr: number, maxOut = Infinity,
): number[] {
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    const g = groups[i];
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  }
  const kept: number[] = [];
  for (const idx of byGroup.values()) kept.push(...nmsSorted(boxes, argsortDesc(scores, idx), iouThr));
  return argsortDesc(scores, kept).slice(0, maxOut);
}
