/**
 * What an exported ONNX model says about itself (its `metadata_props`), so that a reader needs no
 * config: the resolved config, the model type, class names, pre-processing and the layout of
 * every output. Keys are prefixed `convnext.`; values are JSON.
 */
import type { ModelConfig } from '../config/models.js';
import { isDetectorConfig } from '../config/detector.js';
import { Classifier } from './classification/classifier.js';
import { Detector } from './detection/detector.js';
import { featureModel } from './features.js';
import { Segmentor } from './segmentation/segmentor.js';

/** The layout of each output of a config's deployable network (what `convnext export` writes; a detector's batched graph with `batched`, with the paste inside with `pasted`). */
export function outputLayouts(cfg: ModelConfig, batched = false, pasted = false): Record<string, string> {
  if (cfg.type === 'classifier') return { logits: '[N, num_classes] class logits (softmax for probabilities)' };
  if (cfg.type === 'segmentor') return { logits: '[N, num_classes, H, W] class logits at the input size (argmax per pixel for labels)' };
  if (isDetectorConfig(cfg) && (batched || pasted)) {
    const coords = pasted ? 'original image pixels' : 'input pixels';
    return {
      dets: `[N, K, 6] per image, K rows (the RoI head's test max_per_img), the first num_dets valid and the rest zeros: x1, y1, x2, y2 (${coords}), score, label (0-based class index, float); by score, descending`,
      masks: pasted
        ? "[N, K, 1, Hmax, Wmax] uint8 binary masks pasted at the original size (mmdetection's paste, thresholded); image n's are the top-left orig_size[n] of planes as large as the batch's largest original; rows as dets"
        : '[N, K, 1, 28, 28] mask probabilities inside each detection box (paste into the box, threshold 0.5); rows as dets',
      num_dets: '[N] valid rows of dets and masks per image (float)',
      proposals: "[N, P, 5] RPN proposals per image in input pixels (P: the RPN's test max_per_img), the first num_proposals valid: x1, y1, x2, y2, objectness",
      num_proposals: '[N] valid rows of proposals per image (float)',
    };
  }
  if (isDetectorConfig(cfg)) {
    return {
      dets: '[D, 6] per detection: x1, y1, x2, y2 (input pixels), score, label (0-based class index, float); by score, descending',
      masks: '[D, 1, 28, 28] mask probabilities inside each detection box (paste into the box, threshold 0.5)',
      proposals: '[P, 5] RPN proposals: x1, y1, x2, y2, objectness',
    };
  }
  return Object.fromEntries(featureModel(cfg).specs.map((s) => [s.name, `[N, ${s.channels}, H/${s.stride}, W/${s.stride}] features at stride ${s.stride}`]));
}

/** Class names of a config's model (empty for feature extractors). */
export function classNamesOf(cfg: ModelConfig): readonly string[] {
  if (cfg.type === 'classifier') return new Classifier(cfg).classNames;
  if (cfg.type === 'segmentor') return new Segmentor(cfg).classNames;
  if (isDetectorConfig(cfg)) return new Detector(cfg).classNames;
  return [];
}

/** The `metadata_props` of a config's exported model. */
export function exportMetadata(cfg: ModelConfig, o: { name: string; producerVersion: string; input: readonly (number | string)[]; imageSizeInput?: boolean; batched?: boolean; pasted?: boolean }): Record<string, string> {
  return {
    'convnext.version': o.producerVersion,
    'convnext.model_type': cfg.type,
    'convnext.config_name': o.name,
    'convnext.config': JSON.stringify(cfg),
    'convnext.class_names': JSON.stringify(classNamesOf(cfg)),
    'convnext.input': JSON.stringify({
      name: 'input',
      dims: o.input,
      layout: 'NCHW, RGB, float32',
      normalize: '(pixel (0-255) - mean) / std, per channel',
      mean: cfg.input.mean,
      std: cfg.input.std,
      ...(o.imageSizeInput ? { image_size: o.batched ? '[N, 2] float: the valid height and width of each image inside the padded input' : '[2] float: the valid height and width of the image inside the padded input' } : {}),
      ...(o.pasted ? { orig_size: '[N, 2] float: the original height and width of each image (before the resize)' } : {}),
      ...(isDetectorConfig(cfg) ? { resize: 'keep ratio into input.scale (long, short), pad bottom/right to input.size_divisor', scale: cfg.input.scale ?? null, size_divisor: cfg.input.size_divisor ?? null, conventions: cfg.conventions } : {}),
    }),
    'convnext.outputs': JSON.stringify(outputLayouts(cfg, o.batched, o.pasted)),
  };
}
