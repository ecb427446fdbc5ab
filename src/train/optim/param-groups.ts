/**
 * Parameter groups for the optimiser: which parameters train, with which weight decay and lr
 * scale. Buffers never train; frozen parameters (the backbone's frozen stages) are left out; norms, biases and layer scales
 * get no weight decay (by their declared role); the ConvNeXt layer decay sets the lr scale.
 */
import type { ParamRef, ParamRole } from '../../core/params.js';
import { type LayerDecayOptions, layerId, layerScale } from './layer-decay.js';

/** One group: its parameters (by name), weight decay and lr multiplier. */
export interface ParamGroup {
  /** `decay` / `no_decay`, or `layer_<id>_decay` / `layer_<id>_no_decay` with layer decay (official names). */
  name: string;
  params: string[];
  weightDecay: number;
  lrScale: number;
}

export interface ParamGroupOptions {
  weightDecay: number;
  /** Roles without weight decay (default norm, bias, layerScale). */
  noDecayRoles?: readonly ParamRole[];
  /** ConvNeXt layer-wise / stage-wise lr decay. */
  layerDecay?: LayerDecayOptions;
  /** Parameters left out because frozen (the backbone's `frozen_stages`): see {@link backboneFrozen}. */
  frozen?: (name: string) => boolean;
}

export const DEFAULT_NO_DECAY_ROLES: readonly ParamRole[] = ['norm', 'bias', 'layerScale'];

/** Groups the trainable parameters of `refs` (declaration order kept within and across groups). */
export function buildParamGroups(refs: readonly ParamRef[], opts: ParamGroupOptions): ParamGroup[] {
  const noDecay = new Set(opts.noDecayRoles ?? DEFAULT_NO_DECAY_ROLES);
  const groups = new Map<string, ParamGroup>();
  for (const ref of refs) {
    if (ref.role === 'buffer') continue;
    if (opts.frozen?.(ref.name)) continue;
    const decays = !noDecay.has(ref.role);
    let name = decays ? 'decay' : 'no_decay';
    let scale = 1;
    if (opts.layerDecay) {
      const id = layerId(ref.name, opts.layerDecay);
      name = `layer_${id}_${name}`;
      scale = layerScale(id, opts.layerDecay);
    }
    let g = groups.get(name);
    if (!g) {
      g = { name, params: [], weightDecay: decays ? opts.weightDecay : 0, lrScale: scale };
      groups.set(name, g);
    }
    g.params.push(ref.name);
  }
  return [...groups.values()];
}
