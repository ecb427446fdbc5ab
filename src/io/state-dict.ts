/**
 * Finding the state dict inside a checkpoint object: wrappers (`model`, `state_dict`, `ema`, ...)
 * and key prefixes (`module.` from DataParallel, `_orig_mod.` from torch.compile).
 */
import { UserError } from '../core/errors.js';
import { PickleObject } from './pickle.js';

/** Entries that hold a state dict, in order of preference. */
export const WRAPPER_KEYS = [
  'state_dict', 'model', 'model_state_dict', 'model_state', 'net', 'network', 'params',
  'module', 'ema', 'model_ema', 'state_dict_ema', 'ema_state_dict',
] as const;

/** Prefixes removed when every key carries them. */
const STRIP_PREFIXES = ['module.', '_orig_mod.'];

function tensorCount(m: Map<unknown, unknown>, isTensor: (v: unknown) => boolean): number {
  let n = 0;
  for (const [k, v] of m) if (typeof k === 'string' && isTensor(v)) n++;
  return n;
}

/**
 * Picks the state dict out of a checkpoint's top-level object. `prefer` names the wrapper entry
 * to use (e.g. `model_ema`); otherwise the first of {@link WRAPPER_KEYS} holding tensors wins,
 * and a top-level dict of tensors is used as is.
 */
export function findStateDict<T>(
  top: unknown,
  isTensor: (v: unknown) => v is T,
  file: string,
  prefer?: string,
): { dict: Map<string, unknown>; wrapper: string | null } {
  if (top instanceof PickleObject) {
    throw new UserError(`${file}: the checkpoint holds a pickled ${top.cls} object, not a state dict; save model.state_dict() instead`);
  }
  if (!(top instanceof Map)) {
    throw new UserError(`${file}: the checkpoint holds no dict of tensors (top-level object is ${describe(top)})`);
  }
  const asDict = (m: Map<unknown, unknown>): Map<string, unknown> => {
    const out = new Map<string, unknown>();
    for (const [k, v] of m) if (typeof k === 'string') out.set(k, v);
    return out;
  };
  if (prefer !== undefined) {
    const v = top.get(prefer);
    if (!(v instanceof Map) || tensorCount(v, isTensor) === 0) {
      const have = [...top.keys()].filter((k) => typeof k === 'string').join(', ');
      throw new UserError(`${file}: no state dict under '${prefer}' (top-level keys: ${have})`);
    }
    return { dict: asDict(v), wrapper: prefer };
  }
  for (const key of WRAPPER_KEYS) {
    const v = top.get(key);
    if (v instanceof Map && tensorCount(v, isTensor) > 0) {
      // mmcv files may nest once more (e.g. {'state_dict': {'model': ...}}) — rare; take one level.
      return { dict: asDict(v), wrapper: key };
    }
  }
  if (tensorCount(top, isTensor) > 0) return { dict: asDict(top), wrapper: null };
  const have = [...top.keys()].filter((k) => typeof k === 'string').slice(0, 12).join(', ');
  throw new UserError(`${file}: no state dict found (top-level keys: ${have || 'none'})`);
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  return typeof v;
}

/** Removes `module.` / `_orig_mod.` when every key starts with it (repeatedly). */
export function stripPrefixes<V>(m: Map<string, V>): Map<string, V> {
  let cur = m;
  for (let changed = true; changed && cur.size > 0;) {
    changed = false;
    for (const p of STRIP_PREFIXES) {
      if ([...cur.keys()].every((k) => k.startsWith(p))) {
        const next = new Map<string, V>();
        for (const [k, v] of cur) next.set(k.slice(p.length), v);
        cur = next;
        changed = true;
      }
    }
  }
  return cur;
}
