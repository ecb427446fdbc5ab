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
  /** Declared parameters found in the checkpoint. */
  loaded: string[];
  /** Declared parameters that the checkpoint lacked (initialised instead when allowed). */
  missing: string[];
  /** Checkpoint tensors that no declared parameter uses. */
  unexpected: string[];
  /**
   * Prefix mapping applied: 'backbone.' when a bare backbone checkpoint was loaded into a model with
   * a `backbone.` part, '-backbone.' when a checkpoint's `backbone.` part was loaded into a bare backbone.
   */
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
  // A bare backbone checkpoint may load into a model whose backbone lives under `backbone.`, and a
  // detector/segmentor checkpoint into a bare backbone: pick the key mapping that matches most.
  const mappings: Array<{ prefix: string | null; key: (n: string) => string }> = [
    { prefix: null, key: (n) => n },
    { prefix: 'backbone.', key: (n) => (n.startsWith('backbone.') ? n.slice(9) : `\u0000${n}`) },
    { prefix: '-backbone.', key: (n) => `backbone.${n}` },
  ];
  const hits = (m: (n: string) => string) => declared.filter((r) => weights.has(m(r.name))).length;
  let best = mappings[0];
  for (const m of mappings.slice(1)) if (hits(m.key) > hits(best.key)) best = m;
  const prefix = best.prefix;
  const out: WeightMap = new Map();
  const missing: string[] = [];
  const loaded: string[] = [];
  const used = new Set<string>();
  const rand = rng(opts.seed ?? 0);
  for (const ref of declared) {
    const key = best.key(ref.name);
    const t = weights.get(key);
    if (t) {
      used.add(key);
      const same = t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i]);
      // A scalar stored as [1] (or vice versa) is the same parameter.
      if (!same && !(numel(t.shape) === numel(ref.shape) && numel(ref.shape) === 1)) {
        throw new UserError(`${src}shape mismatch for ${key}: checkpoint has ${shapeStr(t.shape)}, model expects ${shapeStr(ref.shape)}`);
      }
      out.set(ref.name, { shape: [...ref.shape], data: t.data });
      loaded.push(ref.name);
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
  return { weights: out, report: { loaded, missing, unexpected, addedPrefix: prefix } };
}

/** Fresh weights for every declared parameter, from their initialisers. */
export function initWeights(registry: ParamRegistry, seed = 0): WeightMap {
  const rand = rng(seed);
  const out: WeightMap = new Map();
  for (const ref of registry.all()) out.set(ref.name, { shape: [...ref.shape], data: initialise(ref.shape, ref.init, rand) });
  return out;
}

/** The top-level groups of parameter names (`decode_head.*`, `neck.*`, …), at most six, for a one-line summary. */
function keyGroups(keys: readonly string[]): string {
  const groups = [...new Set(keys.map((k) => k.split('.')[0]))];
  return `${groups.slice(0, 6).map((g) => `${g}.*`).join(', ')}${groups.length > 6 ? ', …' : ''}`;
}

/**
 * Weights to start training from (`init_weights`): the tensors of each file in order, each file
 * bound with its own key mapping (a bare backbone file may follow a whole model's), so a later
 * file's parameter replaces an earlier one's. Parameters no file has keep the values the first
 * file's binding initialised from `seed` (a single file gives what it always gave). Also returns
 * one line for the log: parameters loaded, initialised (which groups), and unused file tensors.
 */
export function bindInitWeights(registry: ParamRegistry, files: ReadonlyArray<{ tensors: WeightMap; source: string }>, seed = 0): { weights: WeightMap; line: string } {
  // The first file's binding initialises what it lacks (the single-file behaviour, same values).
  let weights: WeightMap | null = null;
  const loaded = new Set<string>();
  const unused: string[] = [];
  for (const f of files) {
    const { weights: bound, report } = bindWeights(registry, f.tensors, { allowMissing: true, seed, source: f.source });
    if (!weights) weights = bound;
    for (const name of report.loaded) {
      weights.set(name, bound.get(name)!);
      loaded.add(name);
    }
    unused.push(...report.unexpected);
  }
  if (!weights) throw new Error('bindInitWeights: no files');
  const total = weights.size;
  const initialised = [...weights.keys()].filter((k) => !loaded.has(k));
  const groups = (keys: readonly string[]): string => (keys.length ? ` (${keyGroups(keys)})` : '');
  const line = `${loaded.size} of ${total} parameters loaded, ${initialised.length} initialised${groups(initialised)}, ${unused.length} unused${groups(unused)}`;
  return { weights, line };
}

/** One line summarising a bind report. */
export function formatBindReport(r: BindReport): string {
  const parts = [`missing ${r.missing.length}`, `unexpected ${r.unexpected.length}`];
  if (r.addedPrefix === 'backbone.') parts.push('bare backbone checkpoint loaded as backbone.*');
  if (r.addedPrefix === '-backbone.') parts.push('backbone.* of the checkpoint used');
  const ex = r.unexpected.slice(0, 3).join(', ');
  return `weights: ${parts.join(', ')}${r.unexpected.length ? ` (unexpected: ${ex}${r.unexpected.length > 3 ? ', …' : ''})` : ''}`;
}
