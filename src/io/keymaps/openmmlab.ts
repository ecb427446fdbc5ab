/**
 * mmdetection and mmsegmentation checkpoints: their names are canonical for necks and heads; the
 * backbone is either the ConvNeXt repo's (official names + norm0..norm3) or mmcls' `ConvNeXt`
 * (depthwise_conv / pointwise_conv1 / pointwise_conv2), renamed to official names.
 */
import type { KeyMap, KeyTarget } from './types.js';
import { BACKBONES } from '../../backbones/index.js';

function backboneTarget(k: string): KeyTarget | null {
  if (!k.startsWith('backbone.')) return null;
  const rest = k.slice('backbone.'.length);
  const name = BACKBONES.keyRule('openmmlab', rest);
  return name === null ? null : { name: `backbone.${name}` };
}

/** A head key kept as is when it sits under one of `prefixes`. */
function under(prefixes: readonly string[]): (k: string) => KeyTarget | null {
  return (k) => (prefixes.some((p) => k.startsWith(p)) ? { name: k } : null);
}

const detHeads = under(['neck.', 'rpn_head.', 'roi_head.']);
const segHeads = under(['neck.', 'decode_head.', 'auxiliary_head.']);

/** mmdetection Mask R-CNN / Cascade Mask R-CNN with a ConvNeXt backbone. */
export const mmdetMap: KeyMap = { source: 'mmdet', target: (k) => backboneTarget(k) ?? detHeads(k) };

/** mmsegmentation UPerNet (or FCN) with a ConvNeXt backbone. */
export const mmsegMap: KeyMap = { source: 'mmseg', target: (k) => backboneTarget(k) ?? segHeads(k) };
