/**
 * ConvNeXt backbone key rules shared by the layouts: official (canonical), timm, torchvision and
 * mmcls / mmpretrain, plus the shape normalizer that brings every layout to canonical shapes.
 *
 * Canonical (official ConvNeXt / ConvNeXt-V2) names, i = stage, j = block:
 * `downsample_layers.0.0|1` (stem conv, LN), `downsample_layers.{i}.0|1` (LN, conv 2x2 s2),
 * `stages.{i}.{j}.dwconv|norm|pwconv1|pwconv2` (pwconv as Linear [out, in]),
 * `stages.{i}.{j}.gamma` [C] (V1 layer scale), `stages.{i}.{j}.grn.gamma|beta` [1,1,1,4C] (V2),
 * classifier `norm`, `head`; dense outputs `norm0`..`norm3`.
 */
import type { HostTensor } from '../core/host-tensor.js';

const PARAM = '(weight|bias)';

/** Official names of backbone parameters (without classifier): `null` if not one. */
export function officialBackboneKey(k: string): string | null {
  if (new RegExp(`^downsample_layers\\.[0-3]\\.[01]\\.${PARAM}$`).test(k)) return k;
  if (new RegExp(`^stages\\.[0-3]\\.\\d+\\.(dwconv|norm|pwconv1|pwconv2)\\.${PARAM}$`).test(k)) return k;
  if (/^stages\.[0-3]\.\d+\.(gamma|grn\.gamma|grn\.beta)$/.test(k)) return k;
  return null;
}

/** Official classifier names (`norm`, `head`). */
export function officialHeadKey(k: string): string | null {
  return new RegExp(`^(norm|head)\\.${PARAM}$`).test(k) ? k : null;
}

/** Dense-output LayerNorms `norm0`..`norm3` (mmdet / mmseg backbones). */
export function denseNormKey(k: string): string | null {
  return new RegExp(`^norm[0-3]\\.${PARAM}$`).test(k) ? k : null;
}

const TIMM_BLOCK: Readonly<Record<string, string>> = {
  conv_dw: 'dwconv', norm: 'norm', 'mlp.fc1': 'pwconv1', 'mlp.fc2': 'pwconv2',
};

/** timm names → official: stem, stages.i.downsample, stages.i.blocks.j.*, head.norm / head.fc. */
export function timmKey(k: string): string | null {
  let m = new RegExp(`^stem\\.([01])\\.${PARAM}$`).exec(k);
  if (m) return `downsample_layers.0.${m[1]}.${m[2]}`;
  m = new RegExp(`^stages\\.([1-3])\\.downsample\\.([01])\\.${PARAM}$`).exec(k);
  if (m) return `downsample_layers.${m[1]}.${m[2]}.${m[3]}`;
  m = new RegExp(`^stages\\.([0-3])\\.blocks\\.(\\d+)\\.(conv_dw|norm|mlp\\.fc1|mlp\\.fc2)\\.${PARAM}$`).exec(k);
  if (m) return `stages.${m[1]}.${m[2]}.${TIMM_BLOCK[m[3]]}.${m[4]}`;
  m = /^stages\.([0-3])\.blocks\.(\d+)\.(gamma|mlp\.grn\.weight|mlp\.grn\.bias)$/.exec(k);
  if (m) {
    const leaf = m[3] === 'gamma' ? 'gamma' : m[3] === 'mlp.grn.weight' ? 'grn.gamma' : 'grn.beta';
    return `stages.${m[1]}.${m[2]}.${leaf}`;
  }
  m = new RegExp(`^head\\.(norm|fc)\\.${PARAM}$`).exec(k);
  if (m) return `${m[1] === 'norm' ? 'norm' : 'head'}.${m[2]}`;
  return null;
}

const TV_BLOCK: Readonly<Record<string, string>> = { 0: 'dwconv', 2: 'norm', 3: 'pwconv1', 5: 'pwconv2' };

/**
 * torchvision `convnext_*` names → official: features.0 stem; features.{2i} downsample;
 * features.{2i+1}.j.block.0/2/3/5 and .layer_scale; classifier.0 / classifier.2.
 * `prefix` replaces `features.` (e.g. `backbone.body.` in a MaskRCNN).
 */
export function torchvisionKey(k: string, prefix = 'features.'): string | null {
  if (!k.startsWith(prefix)) {
    if (prefix !== 'features.') return null;
    const c = new RegExp(`^classifier\\.([02])\\.${PARAM}$`).exec(k);
    return c ? `${c[1] === '0' ? 'norm' : 'head'}.${c[2]}` : null;
  }
  const rest = k.slice(prefix.length);
  let m = new RegExp(`^(\\d)\\.([01])\\.${PARAM}$`).exec(rest);
  if (m) {
    const f = Number(m[1]);
    return f % 2 === 0 && f <= 6 ? `downsample_layers.${f / 2}.${m[2]}.${m[3]}` : null;
  }
  m = new RegExp(`^(\\d)\\.(\\d+)\\.block\\.([0235])\\.${PARAM}$`).exec(rest);
  if (m && Number(m[1]) % 2 === 1) return `stages.${(Number(m[1]) - 1) / 2}.${m[2]}.${TV_BLOCK[m[3]]}.${m[4]}`;
  m = /^(\d)\.(\d+)\.layer_scale$/.exec(rest);
  if (m && Number(m[1]) % 2 === 1) return `stages.${(Number(m[1]) - 1) / 2}.${m[2]}.gamma`;
  return null;
}

const MMCLS_BLOCK: Readonly<Record<string, string>> = {
  depthwise_conv: 'dwconv', norm: 'norm', pointwise_conv1: 'pwconv1', pointwise_conv2: 'pwconv2',
};

/** mmcls / mmpretrain `ConvNeXt` backbone names (inside `backbone.`) → official. */
export function mmclsBackboneKey(k: string): string | null {
  if (new RegExp(`^downsample_layers\\.[0-3]\\.[01]\\.${PARAM}$`).test(k)) return k;
  let m = new RegExp(`^stages\\.([0-3])\\.(\\d+)\\.(depthwise_conv|norm|pointwise_conv1|pointwise_conv2)\\.${PARAM}$`).exec(k);
  if (m) return `stages.${m[1]}.${m[2]}.${MMCLS_BLOCK[m[3]]}.${m[4]}`;
  m = /^stages\.([0-3])\.(\d+)\.(gamma|grn\.gamma|grn\.beta)$/.exec(k);
  if (m) return k;
  return denseNormKey(k);
}

/**
 * Brings a tensor under a canonical name to the canonical shape (data unchanged):
 * layer scale [C,1,1] → [C]; GRN [4C] or [1,4C,1,1] → [1,1,1,4C];
 * pointwise 1x1 convs [out,in,1,1] → Linear [out,in].
 */
export function normalizeShape(name: string, t: HostTensor): HostTensor {
  const n = t.data.length;
  if (/(^|\.)stages\.\d+\.\d+\.gamma$/.test(name) && t.shape.length !== 1) return { shape: [n], data: t.data };
  if (/\.grn\.(gamma|beta)$/.test(name)) {
    const s = t.shape;
    if (s.length !== 4 || s[0] !== 1 || s[1] !== 1 || s[2] !== 1) return { shape: [1, 1, 1, n], data: t.data };
  }
  if (/\.pwconv[12]\.weight$/.test(name) && t.shape.length === 4 && t.shape[2] === 1 && t.shape[3] === 1) {
    return { shape: [t.shape[0], t.shape[1]], data: t.data };
  }
  return t;
}
