/**
 * Instance segmentation configs: Mask R-CNN + FPN on ConvNeXt for COCO, as the official ConvNeXt
 * release (object_detection/configs/convnext/mask_rcnn_convnext_tiny_patch4_window7_mstrain_480-800_adamw_3x_coco_in1k.py,
 * mmdetection 2.x conventions; S and B with the drop-path rates of the release's S/B detection
 * configs), the same detector with torchvision's conventions, Cascade Mask R-CNN for T/S/B (1k) and
 * B/L/XL (22k) as the release's Cascade configs, and tiny configs for tests (which match the
 * fixtures of tools/fixtures/gen_det.py and gen_cascade.py).
 */
import type { ModelConfigInput } from '../src/config/models.js';

type Variant = 'tiny' | 'small' | 'base' | 'large' | 'xlarge';

/** What the release's Mask R-CNN and Cascade Mask R-CNN configs share: backbone, FPN, RPN, input. */
function cocoDetector(variant: Variant, dropPath: number): Omit<Extract<ModelConfigInput, { type: 'mask_rcnn' }>, 'type' | 'roi_head'> {
  return {
    conventions: 'mmdet',
    backbone: { type: 'convnext', version: 1, variant, drop_path_rate: dropPath, layer_scale_init: 1.0, out_indices: [0, 1, 2, 3] },
    num_classes: 80,
    class_names: 'coco',
    neck: { type: 'fpn', out_channels: 256, num_outs: 5 },
    rpn_head: { feat_channels: 256 },
    input: { scale: [1333, 800], size_divisor: 32 },
  };
}

function maskRcnnCoco(variant: Variant, dropPath: number): ModelConfigInput {
  return {
    type: 'mask_rcnn',
    ...cocoDetector(variant, dropPath),
    roi_head: { bbox_head: { fc_out_channels: 1024 }, mask_head: { num_convs: 4, conv_out_channels: 256 } },
  };
}

/**
 * Cascade Mask R-CNN as the official ConvNeXt release's
 * cascade_mask_rcnn_convnext_*_patch4_window7_mstrain_480-800_giou_4conv1f_adamw_3x_coco_in{1k,22k}.py:
 * three stages of a 4conv1f box head (4 convs of 256 with BN, 1 fc of 1024, class-specific
 * deltas, target stds halving per stage) and an FCN mask head each; the rest as the Mask R-CNN.
 */
function cascadeMaskRcnnCoco(variant: Variant, dropPath: number): ModelConfigInput {
  return {
    type: 'cascade_mask_rcnn',
    ...cocoDetector(variant, dropPath),
    roi_head: {
      num_stages: 3,
      stage_loss_weights: [1, 0.5, 0.25],
      bbox_head: { num_shared_convs: 4, conv_out_channels: 256, norm: 'BN', num_shared_fcs: 1, fc_out_channels: 1024, reg_class_agnostic: false },
      mask_head: { num_convs: 4, conv_out_channels: 256 },
    },
  };
}

/** Tiny ConvNeXt (widths 8…32) with an FPN of 16 channels, small heads, 5 classes. */
function tinyDetector(conventions: 'mmdet' | 'torchvision', dense: boolean): ModelConfigInput {
  return {
    type: 'mask_rcnn',
    conventions,
    backbone: { type: 'convnext', version: 1, depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], ...(dense ? { out_indices: [0, 1, 2, 3] } : {}) },
    num_classes: 5,
    class_names: ['cat', 'dog', 'car', 'tree', 'person'],
    neck: { type: 'fpn', out_channels: 16, num_outs: 5 },
    roi_head: { bbox_head: { fc_out_channels: 32 }, mask_head: { num_convs: 4, conv_out_channels: 16 }, test: { max_per_img: 30 } },
    input: { scale: [160, 96], size_divisor: 32 },
  };
}

export const detectionConfigs: Record<string, ModelConfigInput> = {
  'mask-rcnn_convnext-t_fpn_3x_coco': maskRcnnCoco('tiny', 0.4),
  'mask-rcnn_convnext-s_fpn_3x_coco': maskRcnnCoco('small', 0.6),
  'mask-rcnn_convnext-b_fpn_3x_coco': maskRcnnCoco('base', 0.7),
  'cascade-mask-rcnn_convnext-t_fpn_3x_coco': cascadeMaskRcnnCoco('tiny', 0.4),
  'cascade-mask-rcnn_convnext-s_fpn_3x_coco': cascadeMaskRcnnCoco('small', 0.6),
  'cascade-mask-rcnn_convnext-b_fpn_3x_coco': cascadeMaskRcnnCoco('base', 0.7),
  /** ImageNet-22k pre-trained backbones (the release's *_in22k detection checkpoints). */
  'cascade-mask-rcnn_convnext-b-in22k_fpn_3x_coco': cascadeMaskRcnnCoco('base', 0.7),
  'cascade-mask-rcnn_convnext-l-in22k_fpn_3x_coco': cascadeMaskRcnnCoco('large', 0.7),
  'cascade-mask-rcnn_convnext-xl-in22k_fpn_3x_coco': cascadeMaskRcnnCoco('xlarge', 0.8),
  /**
   * Mask R-CNN ConvNeXt-T as torchvision builds it (`MaskRCNN` on a `BackboneWithFPN` over the raw
   * stages of `convnext_tiny().features`): torchvision's numeric conventions throughout, 80 COCO
   * classes (background first in `fc_cls`).
   */
  'mask-rcnn_convnext-t_fpn_torchvision_coco': {
    type: 'mask_rcnn',
    conventions: 'torchvision',
    backbone: { type: 'convnext', version: 1, variant: 'tiny', drop_path_rate: 0.1 },
    num_classes: 80,
    class_names: 'coco',
    neck: { type: 'fpn', out_channels: 256, num_outs: 5 },
    input: { scale: [1333, 800], size_divisor: 32 },
  },
};

/** Tiny detectors for tests. */
export const detectionTestConfigs: Record<string, ModelConfigInput> = {
  /** torchvision conventions on the raw stages: the oracle fixtures (tools/fixtures/gen_det.py). */
  'test_mask-rcnn_convnext-narrow_tv': tinyDetector('torchvision', false),
  /** mmdetection conventions on norm0…norm3 outputs. */
  'test_mask-rcnn_convnext-narrow_mmdet': tinyDetector('mmdet', true),
  /**
   * Cascade Mask R-CNN on the narrow ConvNeXt (tools/fixtures/gen_cascade.py): three 4conv1f box
   * heads of width 16 with BN, fc 32, the official per-stage stds; mask heads of 2 convs.
   */
  'test_cascade-mask-rcnn_convnext-narrow': {
    type: 'cascade_mask_rcnn',
    conventions: 'mmdet',
    backbone: { type: 'convnext', version: 1, depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], out_indices: [0, 1, 2, 3] },
    num_classes: 5,
    class_names: ['cat', 'dog', 'car', 'tree', 'person'],
    neck: { type: 'fpn', out_channels: 16, num_outs: 5 },
    roi_head: {
      bbox_head: { num_shared_convs: 4, conv_out_channels: 16, norm: 'BN', num_shared_fcs: 1, fc_out_channels: 32 },
      mask_head: { num_convs: 2, conv_out_channels: 16 },
      test: { max_per_img: 30 },
    },
    input: { scale: [160, 96], size_divisor: 32 },
  },
};
