/**
 * The ConvNeXt backbone's registry entry: its config schema (`type: 'convnext'`, V1 or V2, a named
 * variant or explicit depths and dims), its build, the levels it emits, and the checkpoint key
 * rules of the layouts people have (official, timm, torchvision, mmcls, mmdetection/mmsegmentation).
 */
import { z } from 'zod';
import type { Backbone } from '../core/components.js';
import { type FeatureSpec, levelName } from '../core/feature-spec.js';
import type { ComponentEntry } from '../core/registry.js';
import { ConvNeXt } from './convnext.js';
import { denseNormKey, mmclsBackboneKey, normalizeShape, officialBackboneKey, officialHeadKey, timmKey, torchvisionKey } from './convnext-keys.js';
import { CONVNEXT_V1, CONVNEXT_V2, V1_VARIANTS, V2_VARIANTS, type VariantDims } from './variants.js';

const ALL_VARIANTS = [...new Set([...V1_VARIANTS, ...V2_VARIANTS])] as [string, ...string[]];
/** Blocks per stage and channels per stage: bounds far above any ConvNeXt (XXL: 27 blocks, 3072 channels). */
const depth = z.number().int().positive().max(1024, { error: 'expected at most 1024 blocks per stage' });
const width = z.number().int().positive().max(65536, { error: 'expected at most 65536 channels' });
const depths4 = z.tuple([depth, depth, depth, depth]);
const dims4 = z.tuple([width, width, width, width]);

/** Defaults of the backbone config (referenced by the schema). */
export const BACKBONE_DEFAULTS = {
  in_channels: 3,
  drop_path_rate: 0,
  layer_scale_init: 1e-6,
} as const;

export const convnextBackboneSchema = z
  .object({
    type: z.literal('convnext'),
    version: z.union([z.literal(1), z.literal(2)]),
    /** A named variant (tiny, small, …); `depths`/`dims` override it. */
    variant: z.enum(ALL_VARIANTS).optional(),
    depths: depths4.optional(),
    dims: dims4.optional(),
    in_channels: width.default(BACKBONE_DEFAULTS.in_channels),
    drop_path_rate: z.number().min(0).max(1).default(BACKBONE_DEFAULTS.drop_path_rate),
    layer_scale_init: z.number().min(0).default(BACKBONE_DEFAULTS.layer_scale_init),
    /** Stages returned as dense features, each through its own `norm{i}`. Omit for classification. */
    out_indices: z.array(z.number().int().min(0).max(3)).min(1).optional(),
    /** Stages frozen during training (-1: none; 0: stem; i: stem and stages < i). */
    frozen_stages: z.number().int().min(-1).max(4).default(-1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const table: Record<string, VariantDims> = c.version === 1 ? CONVNEXT_V1 : CONVNEXT_V2;
    if (c.variant !== undefined && !(c.variant in table)) {
      ctx.addIssue({ code: 'custom', path: ['variant'], message: `ConvNeXt V${c.version} has no variant '${c.variant}' (has ${Object.keys(table).join(', ')})` });
    }
    if (c.variant === undefined && (c.depths === undefined || c.dims === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['variant'], message: 'give a variant, or both depths and dims' });
    }
    if (c.out_indices && c.out_indices.some((v, i) => i > 0 && v <= c.out_indices![i - 1])) {
      ctx.addIssue({ code: 'custom', path: ['out_indices'], message: 'out_indices must be strictly increasing (heads index outputs in this order)' });
    }
  });

export type ConvNeXtBackboneConfig = z.output<typeof convnextBackboneSchema>;

/** Depths and dims of a backbone config (explicit values win over the variant). */
export function resolveDims(c: ConvNeXtBackboneConfig): VariantDims {
  const table: Record<string, VariantDims> = c.version === 1 ? CONVNEXT_V1 : CONVNEXT_V2;
  const v = c.variant ? table[c.variant] : undefined;
  const depths = c.depths ?? v?.depths;
  const dims = c.dims ?? v?.dims;
  if (!depths || !dims) throw new Error('backbone: no depths/dims');
  return { depths, dims };
}

/**
 * The registry entry. It emits the `out_indices` stages (their `norm{i}` outputs), else all four
 * raw stages; stride 4·2^i. Key rules, by source (the names inside the checkpoint's backbone):
 * `official`, `timm` and `torchvision` classifier files (classification `norm` / `head` included),
 * `mmcls` (mmcls / mmpretrain names) and `openmmlab` (mmdetection / mmsegmentation backbones: official
 * names plus `norm0`–`norm3`, or mmcls names).
 */
export const convnextEntry: ComponentEntry<ConvNeXtBackboneConfig, Backbone> = {
  type: 'convnext',
  schema: convnextBackboneSchema,
  build: (scope, _upstream, c) => {
    const { depths, dims } = resolveDims(c);
    return new ConvNeXt(scope, {
      version: c.version,
      depths,
      dims,
      inChannels: c.in_channels,
      dropPathRate: c.drop_path_rate,
      layerScaleInit: c.layer_scale_init,
      outIndices: c.out_indices,
      frozenStages: c.frozen_stages,
    });
  },
  outSpecs: (_upstream, c) => {
    const { dims } = resolveDims(c);
    return (c.out_indices ?? [0, 1, 2, 3]).map((i) => ({ name: levelName(4 << i), channels: dims[i], stride: 4 << i }) satisfies FeatureSpec);
  },
  keys: {
    official: (k) => officialBackboneKey(k) ?? officialHeadKey(k) ?? denseNormKey(k),
    timm: timmKey,
    torchvision: (k) => torchvisionKey(k),
    mmcls: mmclsBackboneKey,
    openmmlab: (k) => officialBackboneKey(k) ?? denseNormKey(k) ?? mmclsBackboneKey(k),
  },
  shape: normalizeShape,
};
