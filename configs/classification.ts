/**
 * ImageNet classification configs for every ConvNeXt variant: `convnext-{t,s,b,…}_in1k`,
 * `convnextv2-{…}_in1k`, and the 22k-class heads the official repos release.
 */
import { CONVNEXT_V1, CONVNEXT_V2 } from '../src/backbones/variants.js';
import type { ModelConfigInput } from '../src/config/models.js';

/** Short names used in config names. */
export const VARIANT_ABBR: Record<string, string> = {
  atto: 'a', femto: 'f', pico: 'p', nano: 'n', tiny: 't', small: 's', base: 'b', large: 'l', xlarge: 'xl', huge: 'h',
};

function classifier(version: 1 | 2, variant: string, classes: 1000 | 21841): ModelConfigInput {
  return {
    type: 'classifier',
    backbone: { type: 'convnext', version, variant: variant as 'tiny' },
    num_classes: classes,
    ...(classes === 1000 ? { class_names: 'imagenet1k' as const } : {}),
  };
}

export const classificationConfigs: Record<string, ModelConfigInput> = {};
for (const v of Object.keys(CONVNEXT_V1)) classificationConfigs[`convnext-${VARIANT_ABBR[v]}_in1k`] = classifier(1, v, 1000);
for (const v of ['tiny', 'small', 'base', 'large', 'xlarge']) classificationConfigs[`convnext-${VARIANT_ABBR[v]}_in22k`] = classifier(1, v, 21841);
for (const v of Object.keys(CONVNEXT_V2)) classificationConfigs[`convnextv2-${VARIANT_ABBR[v]}_in1k`] = classifier(2, v, 1000);
for (const v of ['nano', 'tiny', 'base', 'large', 'huge']) classificationConfigs[`convnextv2-${VARIANT_ABBR[v]}_in22k`] = classifier(2, v, 21841);
