/**
 * Key maps of ImageNet classifiers: official ConvNeXt (V1 / V2), timm, torchvision, mmcls. The
 * backbone entries' key rules (src/backbones) rename the keys.
 */
import type { KeyMap } from './types.js';
import { BACKBONES } from '../../backbones/index.js';

const named = (name: string | null): { name: string } | null => (name === null ? null : { name });

/** Official ConvNeXt / ConvNeXt-V2 ImageNet files (1k or 22k head): already canonical. */
export const officialMap: KeyMap = {
  source: 'official',
  target: (k) => named(BACKBONES.keyRule('official', k)),
};

/** timm / Hugging Face hub `convnext_*` and `convnextv2_*`. */
export const timmMap: KeyMap = { source: 'timm', target: (k) => named(BACKBONES.keyRule('timm', k)) };

/** torchvision `convnext_tiny|small|base|large`. */
export const torchvisionMap: KeyMap = { source: 'torchvision', target: (k) => named(BACKBONES.keyRule('torchvision', k)) };

/** mmclassification / mmpretrain `ImageClassifier` with a `ConvNeXt` backbone (out_indices 3). */
export const mmclsMap: KeyMap = {
  source: 'mmcls',
  target: (k) => {
    const n = /^backbone\.norm3\.(weight|bias)$/.exec(k);
    if (n) return { name: `norm.${n[1]}` };
    if (k.startsWith('backbone.')) {
      const b = BACKBONES.keyRule('mmcls', k.slice('backbone.'.length));
      return b && !/^norm\d/.test(b) ? { name: b } : null;
    }
    const m = /^head\.fc\.(weight|bias)$/.exec(k);
    return m ? { name: `head.${m[1]}` } : null;
  },
};
