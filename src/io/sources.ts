/** Checkpoint layouts that {@link loadWeights} knows how to rename to canonical names. */
export const CHECKPOINT_SOURCES = [
  'official', 'timm', 'torchvision', 'torchvision-maskrcnn', 'mmdet', 'mmseg', 'mmcls',
] as const;

/**
 * Where a checkpoint's key layout comes from:
 * - `official`: the ConvNeXt repo's ImageNet files (V1 and V2): already canonical names;
 * - `timm`: timm / Hugging Face hub naming;
 * - `torchvision`: `torchvision.models.convnext_*`;
 * - `torchvision-maskrcnn`: torchvision `MaskRCNN` on a ConvNeXt `BackboneWithFPN`;
 * - `mmdet` / `mmseg`: mmdetection / mmsegmentation detectors and segmentors (canonical names,
 *   backbone either in the ConvNeXt repo's naming or in mmcls' naming);
 * - `mmcls`: mmclassification / mmpretrain ImageNet classifiers.
 */
export type CheckpointSource = (typeof CHECKPOINT_SOURCES)[number];
