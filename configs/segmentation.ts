/**
 * Semantic segmentation configs: UPerNet + FCN auxiliary head on ConvNeXt for ADE20K, as the
 * official ConvNeXt release (semantic_segmentation/configs/convnext/*_ss.py, mmsegmentation 0.x):
 * test image rescaled into (2048, 512) [(2560, 640) for the 640 models], slide inference with
 * crop 512 stride 341 [640 / 426]; `--tta` gives the ms+flip evaluation (ratios 0.5 … 1.75).
 * Also tiny configs for tests, which match the fixtures of tools/fixtures/gen_seg.py.
 */
import type { ModelConfigInput } from '../src/config/models.js';

type Variant = 'tiny' | 'small' | 'base' | 'large' | 'xlarge';

function upernetAde20k(variant: Variant, dropPath: number, crop: 512 | 640): ModelConfigInput {
  const stride = crop === 512 ? 341 : 426;
  return {
    type: 'segmentor',
    backbone: { type: 'convnext', version: 1, variant, drop_path_rate: dropPath, layer_scale_init: 1.0, out_indices: [0, 1, 2, 3] },
    decode_head: { type: 'uper', channels: 512, pool_scales: [1, 2, 3, 6], dropout_ratio: 0.1, loss_weight: 1.0 },
    auxiliary_head: { type: 'fcn', in_index: 2, channels: 256, num_convs: 1, concat_input: false, dropout_ratio: 0.1, loss_weight: 0.4 },
    num_classes: 150,
    class_names: 'ade20k',
    palette: 'ade20k',
    input: { test_scale: crop === 512 ? [2048, 512] : [2560, 640] },
    test: { mode: 'slide', crop_size: [crop, crop], stride: [stride, stride] },
    tta: { scales: [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], flip: true },
    dataset: { reduce_zero_label: true, ignore_index: 255 },
  };
}

/** The official UPerNet ConvNeXt ADE20K models (ImageNet-1K pretraining at 512, 22K at 640). */
export const segmentationConfigs: Record<string, ModelConfigInput> = {
  'upernet_convnext-t_512x512_160k_ade20k': upernetAde20k('tiny', 0.4, 512),
  'upernet_convnext-s_512x512_160k_ade20k': upernetAde20k('small', 0.3, 512),
  'upernet_convnext-b_512x512_160k_ade20k': upernetAde20k('base', 0.4, 512),
  'upernet_convnext-b_640x640_160k_ade20k': upernetAde20k('base', 0.4, 640),
  'upernet_convnext-l_640x640_160k_ade20k': upernetAde20k('large', 0.4, 640),
  'upernet_convnext-xl_640x640_160k_ade20k': upernetAde20k('xlarge', 0.4, 640),
};

function tinySegmentor(mode: 'whole' | 'slide'): ModelConfigInput {
  return {
    type: 'segmentor',
    backbone: { type: 'convnext', version: 1, depths: [2, 2, 2, 2], dims: [8, 16, 24, 32], layer_scale_init: 1.0, out_indices: [0, 1, 2, 3] },
    decode_head: { type: 'uper', channels: 16, pool_scales: [1, 2, 3, 6] },
    auxiliary_head: { type: 'fcn', in_index: 2, channels: 8, num_convs: 1 },
    num_classes: 5,
    class_names: ['sky', 'tree', 'road', 'car', 'person'],
    test: { mode, crop_size: [128, 128], stride: [85, 85] },
    tta: { scales: [0.75, 1.0, 1.25], flip: true },
    dataset: { reduce_zero_label: true, ignore_index: 255 },
  };
}

/** Tiny UPerNet configs (ConvNeXt widths 8…32, head width 16, 5 classes) for tests and demos. */
export const segmentationTestConfigs: Record<string, ModelConfigInput> = {
  'test_upernet_convnext-narrow_cls5': tinySegmentor('whole'),
  'test_upernet_convnext-narrow_cls5_slide': tinySegmentor('slide'),
};
