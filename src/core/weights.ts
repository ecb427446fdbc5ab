/**
 * Binding checkpoint tensors to a model's declared parameters, with a PyTorch `strict=False`-like
 * report (missing, unexpected keys) and hard errors for shape mismatches.
 */
import { UserError } from './errors.js';
import { type HostTensor, numel, shapeStr } from './host-tensor.js';
import { initialise, rng } from './init.js';
import type { ParamRegistry } from './params.js';

/** Host tensors by canonical parameter name. */
export type WeightMap = Map<string, HostTensor>;

export interface BindReport {
  /** Declared parameters that the checkpoint lacked (initialised instead when allowed). */
  missing: string[];
  /** Checkpoint tensors that no declared parameter uses. */
  unexpected: string[];
  /** Prefix added to checkpoint keys, when a bare backbone checkpoint was loaded into a bigger model. */
  addedPrefix: string | null;
}

export interface BindOptions {
  /** Initialise missing parameters instead of failing (fine-tuning from a backbone checkpoint). */
  allowMissing?: boolean;
  /** Seed for initialising missing parameters. */
  seed?: number;
  /** Where the weights came from, for messages. */
  source?: string;
}

/** Buffers that may be absent from checkpoints without consequence. */
function optionalKey(name: string): boolean {
  return name.endsWith('num_batches_tracked');
}

/**
 * Matches `weights` to `registry`. Missing parameters are an error unless `allowMissing`
 * (then they are initialised); a shape mismatch is always an error naming the key and both shapes.
 * A checkpoint of a bare backbone loads into a model whose parameters live under `backbone.`.
 */
export function bindWeights(registry: ParamRegistry, weights: WeightMap, opts: BindOptions = {}): { weights: WeightMap; report: BindReport } {
  const src = opts.source ? `${opts.source}: ` : '';
  const declared = registry.all();
  let prefix: string | null = null;
  const hits = (p: string) => declared.filter((r) => weights.has(r.name.slice(p.length)) && r.name.startsWith(p)).length;
  if (declared.length > 0 && hits('') === 0 && hits('backbone.') > 0) prefix = 'backbone.';

  const out: WeightMap = new Map();
  const missing: string[] = [];
  const used = new Set<string>();
  const rand = rng(opts.seed ?? 0);
  for (const ref of declared) {
    const key = prefix && ref.name.startsWith(prefix) ? ref.name.slice(prefix.length) : ref.name;
    const t = weights.get(key);
    if (t) {
      used.add(key);
      const same = t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i]);
      // A scalar stored as [1] (or vice versa) is the same parameter.
      if (!same && !(numel(t.shape) === numel(ref.shape) && numel(ref.shape) === 1)) {
        throw new UserError(`${src}shape mismatch for ${key}: checkpoint has ${shapeStr(t.shape)}, model expects ${shapeStr(ref.shape)}`);
      }
      out.set(ref.name, { shape: [...ref.shape], data: t.data });
    } else {
      if (!optionalKey(ref.name)) missing.push(ref.name);
      out.set(ref.name, { shape: [...ref.shape], data: initialise(ref.shape, ref.init, rand) });
    }
  }
  if (missing.length > 0 && !opts.allowMissing) {
    const shown = missing.slice(0, 5).join(', ');
    throw new UserError(`${src}missing ${missing.length} parameter(s): ${shown}${missing.length > 5 ? ', …' : ''}`);
  }
  const unexpected = [...weights.keys()].filter((k) => !used.has(k));
  return { weights: out, report: { missing, unexpected, addedPrefix: prefix } };
}

/** Fresh weights for every declared parameter, from their initialisers. */
export function initWeights(registry: ParamRegistry, seed = 0): WeightMap {
  const rand = rng(seed);
  const out: WeightMap = new Map();
  for (const ref of registry.all()) out.set(ref.name, { shape: [...ref.shape], data: initialise(ref.shape, ref.init, rand) });
  return out;
}

/** One line summarising a bind report. */
export function formatBindReport(r: BindReport): string {
  const parts = [`missing ${r.missing.length}`, `unexpected ${r.unexpected.length}`];
  if (r.addedPrefix) parts.push(`loaded as ${r.addedPrefix}*`);
  const ex = r.unexpected.slice(0, 3).join(', ');
  return `weights: ${parts.join(', ')}${r.unexpected.length ? ` (unexpected: ${ex}${r.unexpected.length > 3 ? ', …' : ''})` : ''}`;
}
