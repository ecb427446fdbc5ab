/** Fused ops that engines may implement natively, with their composition as the fallback. */
import type { ConvOptions, Ops } from './ops.js';
import type { ParamRef } from './params.js';

/**
 * conv2d(concat([xs[0], resize(xs[1]), …]), weight, bias, opts) with every xs[i] after the first
 * resized (bilinear, align_corners=False) to xs[0]'s size; `channels[i]` is xs[i]'s channel count.
 * Uses the engine's fused form when it has one (see `Ops.resizeConcatConv`).
 */
export function resizeConcatConv<T>(ops: Ops<T>, xs: readonly T[], channels: readonly number[], weight: ParamRef, bias: ParamRef | null, opts: ConvOptions = {}): T {
  if (xs.length !== channels.length) throw new Error(`resizeConcatConv: ${xs.length} inputs but ${channels.length} channel counts`);
  const total = channels.reduce((a, b) => a + b, 0);
  if (total !== weight.shape[1] * (opts.groups ?? 1)) throw new Error(`resizeConcatConv: inputs have ${total} channels, ${weight.name} expects ${weight.shape[1]}`);
  if (ops.resizeConcatConv) return ops.resizeConcatConv(xs, channels, weight, bias, opts);
  const up = xs.map((x, i) => (i === 0 ? x : ops.resize(x, { like: xs[0] }, 'bilinear', false)));
  return ops.conv2d(ops.concat(up), weight, bias, opts);
}
