/**
 * The public API of `convnext`: configs, models, the two engines, checkpoint and image I/O, and
 * evaluators. The `convnext` command (src/cli) is built on exactly these.
 */
export type { HostTensor, DType } from './core/host-tensor.js';
export { UserError } from './core/errors.js';
export { DEFAULT_LIMITS, limits, setLimits, resetLimits, type Limits } from './core/limits.js';
export type { FeatureSpec } from './core/feature-spec.js';
export type { Ops } from './core/ops.js';
export type { Network } from './core/model.js';
export type { Scope } from './core/params.js';
export { Conv2d, ConvModule, LayerNorm, Linear } from './core/layers.js';
export { backboneFrozen, type Backbone, type BackboneConfig, type DecodeHead, type DecodeHeadContext, type Neck } from './core/components.js';
export { BACKBONES, buildBackbone, backboneSpecs } from './backbones/index.js';
export { Registry, type ComponentConfig, type ComponentEntry, type ComponentInput, type ComponentIssue } from './core/registry.js';
export { NECKS } from './necks/index.js';
export { DECODE_HEADS } from './heads/seg/index.js';
export { decodeHeadFields, decodeHeadLoss, decodeLossOptions, type DecodeHeadConfig, type DecodeLossOptions } from './heads/seg/decode-head.js';
export { pipeline, quantize, DEMO_MODELS, TASKS, type QuantizeOptions, type QuantizeReport, type QuantizeResult } from './pipeline/index.js';
export type * from './pipeline/types.js';
export { bindWeights, initWeights, formatBindReport, type WeightMap, type BindReport } from './core/weights.js';
export { createRunner, ENGINES, type EngineName, type EngineOptions, type Runner } from './core/engine.js';
export { initBackend, type BackendChoice } from './core/tfjs/backend.js';
export { buildOnnx, type BuildOptions } from './core/ort/build.js';

export { modelConfigSchema, type ModelConfig, type ModelConfigInput } from './config/models.js';
export { validateConfig, type ConfigCatalog } from './config/resolve.js';
export { resolveFrom } from './config/config-file.js';
export { resolveConfig, configNames, NAMED_CONFIGS } from '../configs/index.js';
export { CONVNEXT_V1, CONVNEXT_V2 } from './backbones/variants.js';
export { ConvNeXt } from './backbones/convnext.js';

export { Classifier } from './tasks/classification/classifier.js';
export { featureModel, type FeatureModel } from './tasks/features.js';
export { mainNetwork } from './tasks/networks.js';
export { Segmentor, segmentorNetwork } from './tasks/segmentation/segmentor.js';
export { SegmentorPredictor, type SegPrediction } from './tasks/segmentation/segmentor-predict.js';
export { Detector } from './tasks/detection/detector.js';
export { DetectorPredictor, toCocoResults, type DetectionResult, type Instance } from './tasks/detection/detector-predict.js';
export { createDetectorPredictor } from './tasks/detection/detector-engine.js';
export { createSegmentorPredictor } from './tasks/segmentation/segmentor-engine.js';

export { loadWeights, type LoadedWeights } from './io/load-weights.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { readRgb } from './io/image.js';
export { cropRgb, flipRgb, toTensor, type RgbImage } from './image/rgb.js';

export { MIoUAccumulator, type MIoUResult } from './eval/miou.js';
export { evaluateCoco, type CocoEvalResult } from './eval/coco/cocoeval.js';
