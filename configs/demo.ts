/**
 * The demo models that `convnext demo` runs (trained by the project itself on `convnext synth`
 * shapes, tools/train_demo.sh) and the training recipes that make them, plus tiny recipes for tests.
 * Shapes: circle, square, triangle, star (the synth defaults).
 */
import type { ModelConfigInput } from '../src/config/models.js';
import type { TrainRecipeInput } from '../src/train/config.js';
import { detectionTestConfigs } from './detection.js';

const SHAPES = ['circle', 'square', 'triangle', 'star'];
const SEG_CLASS_WEIGHT = [0.2, 1, 1, 1, 1];

/** Model configs of the demo models. */
export const demoConfigs: Record<string, ModelConfigInput> = {
  /** A small ConvNeXt Mask R-CNN (mmdetection conventions) for shape images, trained at 320 × 320. */
  'demo_mask-rcnn_convnext-synth': {
    type: 'mask_rcnn',
    conventions: 'mmdet',
    backbone: { type: 'convnext', version: 1, depths: [1, 1, 3, 1], dims: [16, 32, 64, 128], layer_scale_init: 1.0, out_indices: [0, 1, 2, 3] },
    num_classes: 4,
    class_names: SHAPES,
    neck: { type: 'fpn', out_channels: 32, num_outs: 5 },
    rpn_head: { feat_channels: 32, anchor_generator: { scales: [4] }, test: { nms_pre: 300, max_per_img: 100 } },
    roi_head: { bbox_head: { fc_out_channels: 128 }, mask_head: { num_convs: 2, conv_out_channels: 32 }, test: { max_per_img: 20 } },
    // Test scale 320, the largest of its last training stages (256–320).
    input: { scale: [320, 320], size_divisor: 32 },
  },
  /** A small UPerNet ConvNeXt for 160 × 160 shape label maps (background + 4 shapes). */
  'demo_upernet_convnext-synth': {
    type: 'segmentor',
    backbone: { type: 'convnext', version: 1, depths: [1, 1, 3, 1], dims: [16, 32, 64, 128], layer_scale_init: 1.0, out_indices: [0, 1, 2, 3] },
    // Background (~85 % of the pixels) weighs less in training: the shapes' kinds drive the loss.
    decode_head: { type: 'uper', channels: 48, pool_scales: [1, 2, 3, 6], dropout_ratio: 0.1, class_weight: SEG_CLASS_WEIGHT },
    auxiliary_head: { type: 'fcn', in_index: 2, channels: 32, num_convs: 1, dropout_ratio: 0.1, loss_weight: 0.4, class_weight: SEG_CLASS_WEIGHT },
    num_classes: 5,
    class_names: ['background', ...SHAPES],
    palette: [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200]],
    input: { test_scale: [128, 128] },
    // `--tta` (and `convnext demo`): flip and mmseg's six scales 0.5…1.75 of 128, best of six
    // scale sets on a separate selection set (synth seed 5, stage-three weights: mIoU 0.872 vs
    // 0.810 without TTA).
    tta: { scales: [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], flip: true },
    dataset: { reduce_zero_label: false, ignore_index: 255 },
  },
};

/**
 * The demo detector's first stages ran on 160-pixel images, tested at 144 (the largest of their
 * training scales: box AP 0.735 vs 0.714 at 128 on a separate selection set, synth seed 5).
 */
const DEMO_DET_160 = { ...demoConfigs['demo_mask-rcnn_convnext-synth'], input: { scale: [144, 144], size_divisor: 32 } } as Record<string, unknown>;

/** The demo detector's first stage: 3000 steps from scratch. */
const DEMO_DET: TrainRecipeInput = {
  model: DEMO_DET_160,
  seed: 0,
  batch_size: 8,
  max_steps: 3000,
  optimizer: { lr: 1.5e-3, weight_decay: 0.05, grad_clip: { max_norm: 10 } },
  schedule: { policy: 'poly', max_iters: 3000, power: 1, min_lr: 1e-6, warmup: { type: 'linear', iters: 150, ratio: 0.01 } },
  pipeline: { scales: [[128, 128], [112, 112], [144, 144]], flip_prob: 0.5, photometric: true },
  det_train: {
    rpn: { sampler: { num: 128 } },
    rpn_proposal: { nms_pre: 500, max_per_img: 200 },
    rcnn: { sampler: { num: 96, pos_fraction: 0.25 } },
  },
  eval: { interval: 500, max_images: 100 },
  checkpoint: { interval: 250, keep: 2 },
  log_interval: 10,
};

/** The demo segmentor's first stage. */
const DEMO_SEG: TrainRecipeInput = {
  model: 'demo_upernet_convnext-synth',
  seed: 0,
  batch_size: 8,
  max_steps: 5000,
  optimizer: { lr: 1e-3, weight_decay: 0.05 },
  schedule: { policy: 'poly', max_iters: 5000, power: 1, min_lr: 1e-6, warmup: { type: 'linear', iters: 100, ratio: 0.01 } },
  pipeline: { scale: [128, 128], ratio_range: [0.8, 1.25], crop_size: [128, 128], cat_max_ratio: 0.75, photometric: true },
  eval: { interval: 500, max_images: 100 },
  checkpoint: { interval: 250, keep: 2 },
  log_interval: 10,
};

/**
 * A later training stage of `base` (started from an earlier stage's best weights through
 * `init_weights`): `steps` steps, a fresh linear warm-up of `warmup` steps, then poly decay from `lr`.
 */
function laterStage(base: TrainRecipeInput, steps: number, lr: number, warmup: number, extra: Partial<TrainRecipeInput> = {}): TrainRecipeInput {
  return {
    ...base,
    max_steps: steps,
    optimizer: { ...base.optimizer, lr },
    schedule: { policy: 'poly', max_iters: steps, power: 1, min_lr: 1e-6, warmup: { type: 'linear', iters: warmup, ratio: 0.01 } },
    ...extra,
  };
}

/** The demo detector at 320 pixels (its training recipes' model) and their multi-scale pipeline. */
const DEMO_DET_320 = { ...demoConfigs['demo_mask-rcnn_convnext-synth'], input: { scale: [320, 320], size_divisor: 32 } } as Record<string, unknown>;
const DEMO_DET_320_PIPELINE = { scales: [[288, 288], [256, 256], [320, 320]], flip_prob: 0.5, photometric: true };

/** Named training recipes (`convnext train --config NAME`). */
/** The tiny Mask R-CNN recipe of the tests: a few steps on 64-pixel images. */
const TINY_MASK_RCNN_RECIPE: TrainRecipeInput = {
  model: { ...detectionTestConfigs['test_mask-rcnn_convnext-narrow_mmdet'], num_classes: 4, class_names: SHAPES } as Record<string, unknown>,
  seed: 1,
  batch_size: 2,
  max_steps: 4,
  optimizer: { lr: 1e-3, grad_clip: { max_norm: 5 } },
  schedule: { policy: 'poly', max_iters: 4, warmup: { type: 'linear', iters: 2, ratio: 0.1 } },
  pipeline: { scales: [[64, 64], [80, 80]], photometric: true },
  det_train: { rpn: { sampler: { num: 64 } }, rpn_proposal: { nms_pre: 200, max_per_img: 50 }, rcnn: { sampler: { num: 32 } } },
  checkpoint: { interval: 2, keep: 2 },
  log_interval: 1,
};

export const TRAIN_RECIPES: Record<string, TrainRecipeInput> = {
  'demo_mask-rcnn_synth': DEMO_DET,
  /**
   * The demo detector's second stage: 1500 more steps from the first stage's best weights
   * (`init_weights`, passed by tools/train_demo.sh), a fresh warm-up and poly decay from 1e-3.
   */
  'demo_mask-rcnn_synth_ft': laterStage(DEMO_DET, 1500, 1e-3, 50, { eval: { interval: 250, max_images: 100 } }),
  /**
   * The demo detector on 320-pixel images: 2000 steps at scales 256–320 from the 160-pixel
   * detector's weights (`init_weights`, passed by tools/train_demo.sh), tested at 320.
   */
  'demo_mask-rcnn_synth_320': {
    ...laterStage(DEMO_DET, 2000, 1e-3, 100, { eval: { interval: 500, max_images: 100 } }),
    model: DEMO_DET_320,
    pipeline: DEMO_DET_320_PIPELINE,
  },
  /** A second 320-pixel stage from the first one's best weights: a fresh warm-up and decay from 6e-4. */
  'demo_mask-rcnn_synth_320_ft': {
    ...laterStage(DEMO_DET, 2000, 6e-4, 50, { eval: { interval: 500, max_images: 100 } }),
    model: DEMO_DET_320,
    pipeline: DEMO_DET_320_PIPELINE,
  },
  /**
   * Fine-tunes from the backbone of the final demo detector (tools/train_demo.sh passes it as
   * `init_weights`): from scratch, the same UPerNet stays near 0.27 mIoU for thousands of steps.
   */
  'demo_upernet_synth': DEMO_SEG,
  /** The demo segmentor's second stage: 1200 more steps from the first stage's best, poly from 5e-4. */
  'demo_upernet_synth_ft': laterStage(DEMO_SEG, 1200, 5e-4, 50, { eval: { interval: 300, max_images: 100 } }),
  /** The demo segmentor's third stage: 7000 more steps from the second stage's best, poly from 1e-3. */
  'demo_upernet_synth_ft2': laterStage(DEMO_SEG, 7000, 1e-3, 100),
  /** The demo segmentor's fourth stage: 2000 more steps from the third stage's best, poly from 5e-4. */
  'demo_upernet_synth_ft3': laterStage(DEMO_SEG, 2000, 5e-4, 50),
  /** Tiny recipes for tests: a few steps on 64-pixel images. */
  'test_train_mask-rcnn': TINY_MASK_RCNN_RECIPE,
  'test_train_upernet': {
    model: 'test_upernet_convnext-narrow_cls5',
    seed: 1,
    batch_size: 2,
    max_steps: 4,
    optimizer: { lr: 1e-3 },
    schedule: { policy: 'poly', max_iters: 4 },
    pipeline: { scale: [64, 64], ratio_range: [0.8, 1.2], crop_size: [64, 64] },
    checkpoint: { interval: 2, keep: 2 },
    log_interval: 1,
  },
  /** The tiny Cascade Mask R-CNN through the same loop as test_train_mask-rcnn (three stages, GIoU on decoded boxes). */
  'test_train_cascade-mask-rcnn': {
    ...TINY_MASK_RCNN_RECIPE,
    model: { ...detectionTestConfigs['test_cascade-mask-rcnn_convnext-narrow'], num_classes: 4, class_names: SHAPES } as Record<string, unknown>,
  },
};
