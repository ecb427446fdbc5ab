/**
 * ConvNeXt layer-wise / stage-wise learning-rate decay, as the official detection and
 * segmentation code (`LearningRateDecayOptimizerConstructor` in facebookresearch/ConvNeXt
 * mmcv_custom): each parameter gets a layer id from its name, and its group's lr is scaled by
 * decay_rate ^ (num_layers + 2 − layer_id − 1) where num_layers is the configured value
 * (6 for tiny/small-style 3-3-9-3 / 3-3-27-3 grouping, 12 for base and larger).
 *
 * Names are the official ones. The official code sees them under `backbone.`; names of a bare
 * backbone or classifier (no prefix) are mapped the same way, so `downsample_layers.*` and
 * `stages.*` always count as backbone layers and everything else (necks, heads, norm{i}) as the top.
 */

export type DecayType = 'layer_wise' | 'stage_wise';

export interface LayerDecayOptions {
  /** decay_rate: multiplier per layer (e.g. 0.95 detection, 0.9 segmentation). */
  rate: number;
  /** paramwise_cfg.num_layers (6 for ConvNeXt-T/S configs, 12 for B/L/XL). */
  numLayers: number;
  /** Default 'layer_wise'. */
  type?: DecayType;
}

/** Splits a name into its backbone part (`downsample_layers…`, `stages…`) or null for non-backbone names. */
function backbonePath(name: string): string[] | null {
  const bare = name.startsWith('backbone.') ? name.slice('backbone.'.length) : name;
  const parts = bare.split('.');
  if (parts[0] === 'downsample_layers' || parts[0] === 'stages') return parts;
  return null;
}

function index(parts: string[], i: number, name: string): number {
  const v = Number(parts[i]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`layer decay: cannot read an index at position ${i} of '${name}'`);
  return v;
}

/**
 * Official `get_num_layer_layer_wise(name, num_max_layer)`: stem 0; stage 0 → 1; downsample 1 and
 * stage 1 → 2; downsample 2 → 3; stage 2 block j → 3 + ⌊j / 3⌋; downsample 3 and stage 3 →
 * num_max_layer; everything else num_max_layer + 1.
 */
export function layerIdLayerWise(name: string, numMaxLayer: number): number {
  const p = backbonePath(name);
  if (!p) return numMaxLayer + 1;
  const stage = index(p, 1, name);
  if (p[0] === 'downsample_layers') return [0, 2, 3, numMaxLayer][stage] ?? numMaxLayer;
  if (stage === 0) return 1;
  if (stage === 1) return 2;
  if (stage === 2) return 3 + Math.floor(index(p, 2, name) / 3);
  return numMaxLayer;
}

/**
 * Official `get_num_layer_stage_wise(name, num_layers)` (called with num_layers = configured + 2):
 * every downsampling layer 0; stage i → i + 1; everything else num_layers − 1.
 */
export function layerIdStageWise(name: string, numLayersPlus2: number): number {
  const p = backbonePath(name);
  if (!p) return numLayersPlus2 - 1;
  if (p[0] === 'downsample_layers') return 0;
  return index(p, 1, name) + 1;
}

/** Layer id of a parameter under `opts`. */
export function layerId(name: string, opts: LayerDecayOptions): number {
  return (opts.type ?? 'layer_wise') === 'layer_wise' ? layerIdLayerWise(name, opts.numLayers) : layerIdStageWise(name, opts.numLayers + 2);
}

/** lr multiplier of a layer id: rate ^ (numLayers + 2 − id − 1). */
export function layerScale(id: number, opts: LayerDecayOptions): number {
  return opts.rate ** (opts.numLayers + 2 - id - 1);
}
