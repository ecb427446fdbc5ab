/** The pipeline API's public types: tasks, inputs, options and results (plain objects). */
import type { Sharp } from 'sharp';
import type { BackendChoice } from '../core/tfjs/backend.js';
import type { EngineName } from '../core/engine.js';
import type { ModelConfigInput } from '../config/models.js';
import type { RgbImage } from '../image/rgb.js';
import type { DetectedObject, DetectionOptions, SegmentationOptions, SemanticSegmentation } from '../tasks/results.js';

export type { Box, ClassShare, DetectedObject, DetectionOptions, RleMask, SegmentationOptions, SemanticSegmentation } from '../tasks/results.js';

/** The tasks `pipeline()` builds. */
export type Task = 'object-detection' | 'instance-segmentation' | 'image-segmentation' | 'image-classification' | 'image-feature-extraction';

/**
 * One image: a file path, the bytes of an encoded image (JPEG, PNG, WebP, …), a sharp instance,
 * or decoded 8-bit RGB pixels (`{ width, height, data }`, row-major, 3 bytes per pixel).
 */
export type ImageInput = string | Uint8Array | Sharp | RgbImage;

/** How a pipeline is built. Without `config` and `weights`, the task's bundled demo model is used. */
export interface PipelineOptions {
  /** A named config (see `convnext configs`), a JSON config file, or a config object. */
  config?: string | ModelConfigInput;
  /** Config overrides, as the CLI's `--set` (`key=value`). */
  set?: readonly string[];
  /** Weights file (.safetensors or .pth of any supported layout). Required with a config that has no bundled weights. */
  weights?: string;
  /**
   * An ONNX file written by `convnext export`, instead of `config` and `weights`: its metadata
   * gives the config and class names (ort engine).
   */
  model?: string;
  /** Inference engine (default 'ort': onnxruntime-node). */
  engine?: EngineName;
  /** TensorFlow.js backend (tfjs engine; default 'auto'). */
  backend?: BackendChoice;
  /** onnxruntime intra-op threads (ort engine). */
  threads?: number;
  /**
   * Quantize the model to int8 when the pipeline is built (ort engine), as `convnext quantize`
   * does; static mode needs `calibration` images.
   */
  quantize?: QuantizeSpec;
}

/** How a model is quantized to int8 (see `quantize()` and `convnext quantize`). */
export interface QuantizeSpec {
  /** 'static' (default): activation ranges from calibration images; 'dynamic': ranges at run time, no calibration. */
  mode?: 'static' | 'dynamic';
  /** Static: how ranges are chosen from the calibration data (default 'minmax'). */
  method?: 'minmax' | 'percentile' | 'entropy';
  /** One weight scale per output channel (default true) or per tensor. */
  perChannel?: boolean;
  /** 7-bit weights (±64): for CPUs without VNNI, whose u8s8 kernels can saturate otherwise (default false). */
  reduceRange?: boolean;
  /** Nodes whose node name or weight name matches one of these stay float. */
  exclude?: ReadonlyArray<string | RegExp>;
  /** Calibration images (static mode: required), also the images of the accuracy report. */
  calibration?: readonly ImageInput[];
}

/** One class of a classification, by probability. */
export interface ClassScore {
  label: string;
  labelId: number;
  score: number;
}

export interface ClassificationOptions {
  /** How many classes (default 5). */
  topk?: number;
}

/** One feature level: NCHW float32 values, its stride and channel count. */
export interface FeatureLevel {
  shape: number[];
  data: Float32Array;
  stride: number;
  channels: number;
}

/** Feature levels by name (p2 … p5). */
export type Features = Record<string, FeatureLevel>;

/** What each task returns per image, and its call options. */
export interface TaskTypes {
  'object-detection': { result: DetectedObject[]; options: DetectionOptions };
  'instance-segmentation': { result: DetectedObject[]; options: DetectionOptions };
  'image-segmentation': { result: SemanticSegmentation; options: SegmentationOptions };
  'image-classification': { result: ClassScore[]; options: ClassificationOptions };
  'image-feature-extraction': { result: Features; options: Record<string, never> };
}

/** A built pipeline: call it on one image or an array of images; dispose it when done. */
export interface Pipeline<K extends Task> {
  (input: ImageInput, options?: TaskTypes[K]['options']): Promise<TaskTypes[K]['result']>;
  (inputs: readonly ImageInput[], options?: TaskTypes[K]['options']): Promise<Array<TaskTypes[K]['result']>>;
  readonly task: K;
  /** The resolved model config. */
  readonly config: import('../config/models.js').ModelConfig;
  /** Class names by index (empty for feature extraction). */
  readonly classNames: readonly string[];
  /** Releases the engine session (or tensors). */
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
