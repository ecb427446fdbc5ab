/** Softmax over logits and the k most probable classes. */
export function topK(logits: Float32Array, k: number): Array<{ index: number; prob: number }> {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  const p = Float64Array.from(logits, (v) => Math.exp(v - max));
  for (const v of p) sum += v;
  return Array.from(p, (v, index) => ({ index, prob: v / sum }))
    .sort((a, b) => b.prob - a.prob)
    .slice(0, k);
}
