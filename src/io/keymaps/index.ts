/**
 * Key maps from the layouts users have to canonical names, detection of the layout from the keys,
 * and the report of keys that no rule maps.
 */
import { UserError } from '../../core/errors.js';
import { shapeStr, type HostTensor } from '../../core/host-tensor.js';
import type { CheckpointSource } from '../sources.js';
import type { KeyMap } from './types.js';
import { BACKBONES } from '../../backbones/index.js';
import { mmclsMap, officialMap, timmMap, torchvisionMap } from './classifiers.js';
import { mmdetMap, mmsegMap } from './openmmlab.js';
import { torchvisionMaskRcnnMap } from './torchvision-maskrcnn.js';

export type { KeyMap, KeyTarget } from './types.js';

/** Every key map; on equal scores the earlier one wins. */
export const KEY_MAPS: readonly KeyMap[] = [
  officialMap, mmdetMap, mmsegMap, timmMap, torchvisionMap, torchvisionMaskRcnnMap, mmclsMap,
];

/** The key map of a source. */
export function keyMapFor(source: CheckpointSource): KeyMap {
  const m = KEY_MAPS.find((k) => k.source === source);
  if (!m) throw new Error(`no key map for ${source}`);
  return m;
}

/** How many of `keys` each layout recognizes. */
export function scoreSources(keys: readonly string[]): Array<{ source: CheckpointSource; recognized: number }> {
  return KEY_MAPS.map((m) => ({ source: m.source, recognized: keys.filter((k) => m.target(k) !== null).length }));
}

/**
 * Detects the layout from the keys: the source whose rules recognize the most keys (ties go to
 * the earlier entry of {@link KEY_MAPS}). Returns null when no layout recognizes at least half
 * of the keys.
 */
export function detectSource(keys: readonly string[]): CheckpointSource | null {
  if (keys.length === 0) return null;
  let best: { source: CheckpointSource; recognized: number } | null = null;
  for (const s of scoreSources(keys)) if (!best || s.recognized > best.recognized) best = s;
  return best && best.recognized * 2 >= keys.length ? best.source : null;
}

/** Result of {@link mapToCanonical}. */
export interface MappedWeights {
  /** Tensors under canonical names, in canonical shapes. */
  tensors: Map<string, HostTensor>;
  /** Source keys that no rule of the layout maps (left out of `tensors`). */
  unmapped: string[];
  /** The source key of each canonical name. */
  origin: Map<string, string>;
}

/** The keys of `keys` that the layout of `source` does not map. */
export function unmappedKeys(keys: Iterable<string>, source: CheckpointSource): string[] {
  const m = keyMapFor(source);
  return [...keys].filter((k) => m.target(k) === null);
}

/**
 * Renames tensors from the layout of `source` to canonical names and shapes. Two source keys
 * that land on one name are an error naming both.
 */
export function mapToCanonical(tensors: Map<string, HostTensor>, source: CheckpointSource, file = 'checkpoint'): MappedWeights {
  const map = keyMapFor(source);
  const out = new Map<string, HostTensor>();
  const from = new Map<string, string>();
  const unmapped: string[] = [];
  for (const [k, t] of tensors) {
    const target = map.target(k);
    if (!target) { unmapped.push(k); continue; }
    const prev = from.get(target.name);
    if (prev !== undefined) {
      throw new UserError(`${file}: keys '${prev}' and '${k}' both map to '${target.name}' (layout ${source})`);
    }
    const changed = target.transform ? target.transform(t, k) : t;
    const shaped = BACKBONES.normalizeShape(target.name, changed);
    if (shaped.data.length !== changed.data.length) {
      throw new Error(`key map ${source}: '${k}' ${shapeStr(t.shape)} changed size`);
    }
    out.set(target.name, shaped);
    from.set(target.name, k);
  }
  return { tensors: out, unmapped, origin: from };
}
