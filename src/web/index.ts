/**
 * The package's browser entry (`import … from 'convnext'` under a bundler's `browser` condition):
 * exported detectors and segmentors on onnxruntime-web with the same pre- and post-processing as
 * Node, and the isomorphic pieces below them (ONNX metadata, configs, results, RLE, drawing).
 *
 * ```ts
 * import { loadEngine, loadModel, decodeImage } from 'convnext';
 * const engine = await loadEngine('/ort/');               // where onnxruntime-web's .mjs/.wasm files are served
 * const model = await loadModel(engine, bytes, 'det.onnx'); // an ONNX file `convnext export` wrote
 * const { image } = await decodeImage(file, file.name);
 * if (model.kind === 'detector') console.log((await model.detect(image, { threshold: 0.5 })).objects);
 * ```
 */
import { type ExportedDetector, exportedModel, type ExportedSegmentor } from '../tasks/exported-model.js';
import { describeOnnxModel } from '../tasks/onnx-model.js';
import { type WebEngine, WebRunner } from './ort-web.js';
import type { Runner } from '../core/runner.js';

export { loadEngine, WebRunner, type WebEngine } from './ort-web.js';
export { decodeImage, bitmapToRgb, MAX_SIDE, type DecodedImage } from './decode.js';
export { drawDetections, drawLabels } from './draw.js';
export type { SiteManifest, SiteModel } from './site.js';
export { exportedModel, type ExportedDetector, type ExportedSegmentor } from '../tasks/exported-model.js';
export { describeOnnxModel, type OnnxModel } from '../tasks/onnx-model.js';
export { readOnnxInfo, type OnnxInfo, type OnnxValueInfo } from '../core/ort/metadata.js';
export type { Runner } from '../core/runner.js';
export type { HostTensor } from '../core/host-tensor.js';
export { UserError } from '../core/errors.js';
export { modelConfigSchema, type ModelConfig, type ModelConfigInput } from '../config/models.js';
export { validateConfig } from '../config/resolve.js';
export type { Box, ClassShare, DetectedObject, DetectionOptions, RleMask, SegmentationOptions, SemanticSegmentation } from '../tasks/results.js';
export { detectedObjects, semanticSegmentation } from '../tasks/results.js';
export { DetectorPredictor, type DetectionResult, type Instance } from '../tasks/detection/detector-predict.js';
export { SegmentorPredictor, type SegPrediction } from '../tasks/segmentation/segmentor-predict.js';
export { classShares } from '../tasks/segmentation/segmentor-classes.js';
export { classColor, overlayLayout } from '../tasks/detection/detector-overlay-layout.js';
export { compressRle, decompressRle, decodeRle, encodeMask, type CompressedRle, type Rle } from '../io/coco/rle.js';
export { cropRgb, flipRgb, toTensor, type RgbImage } from '../image/rgb.js';
export { resizeRgbBilinear } from '../image/resize.js';
export { batchedNmsHost } from '../core/det/nms.js';
export { pasteMask, regionToFull, type MaskRegion } from '../core/det/paste.js';
export { COCO_CLASSES, COCO_CATEGORY_IDS } from '../tasks/detection/detector-classes.js';
export { ADE20K_CLASSES, ADE20K_PALETTE } from '../config/ade20k-classes.js';
export { defaultPalette } from '../tasks/segmentation/segmentor.js';
export { argmax, resizeArgmax, resizeScores, type Labels, type ScoreMap } from '../tasks/segmentation/segmentor-logits.js';

/**
 * Loads an exported detector or segmentor (ONNX bytes with convnext metadata) on `engine`; `name`
 * is used in errors. `wrap` may wrap the session's runner (for example to time it).
 */
export async function loadModel(engine: WebEngine, bytes: Uint8Array, name: string, wrap: (r: Runner) => Runner = (r) => r): Promise<ExportedDetector | ExportedSegmentor> {
  const info = describeOnnxModel(bytes, name);
  const runner = wrap(await WebRunner.create(engine, bytes));
  try {
    return exportedModel(info, runner, name);
  } catch (e) {
    await runner.dispose();
    throw e;
  }
}
