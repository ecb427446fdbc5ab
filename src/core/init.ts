/** Parameter initialisers (used when training from scratch or for parameters a checkpoint lacks). */
import type { Init } from './params.js';
import { numel } from './host-tensor.js';

/** A small deterministic PRNG (mulberry32) so initialisation is reproducible from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fills a new array for `shape` according to `init`. */
export function initialise(shape: readonly number[], init: Init, rand: () => number): Float32Array {
  const out = new Float32Array(numel(shape));
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'const':
      out.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < out.length; i++) out[i] = gaussian(rand) * init.std;
      break;
    case 'truncNormal':
      // timm's trunc_normal_(std, a=-2, b=2): absolute cut at ±2 (≈ ±2/std sigmas for small std).
      for (let i = 0; i < out.length; i++) {
        let v: number;
        do v = gaussian(rand) * init.std; while (v < -2 || v > 2);
        out[i] = v;
      }
      break;
    case 'torchDefault': {
      // kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(fan_in) for weights; biases use the same bound.
      const bound = 1 / Math.sqrt(Math.max(init.fanIn, 1));
      for (let i = 0; i < out.length; i++) out[i] = (rand() * 2 - 1) * bound;
      break;
    }
  }
  return out;
}
