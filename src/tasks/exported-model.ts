/**
 * An exported detector or segmentor (an ONNX file `convnext export` wrote) run through any engine
 * runner, with the library API's results: the same pre- and post-processing code in Node
 * (onnxruntime-node) and in a browser (onnxruntime-web), so that both give the same answers.
 */
import { UserError } from '../core/errors.js';
import type { Runner } from '../core/runner.js';
import { isDetectorConfig } from '../config/detector.js';
import type { RgbImage } from '../image/rgb.js';
import { DEFAULT_SCORE_THR } from './detection/detector-json.js';
import { DetectorPredictor, type DetectionResult } from './detection/detector-predict.js';
import { exportedDetectorLayout, exportedDetectorRunner } from './detection/detector-runner.js';
import { Detector } from './detection/detector.js';
import type { OnnxModel } from './onnx-model.js';
import { detectedObjects, type DetectedObject, type DetectionOptions, type SegmentationOptions, type SemanticSegmentation, semanticSegmentation } from './results.js';
import { type SegPrediction, SegmentorPredictor } from './segmentation/segmentor-predict.js';
import { Segmentor } from './segmentation/segmentor.js';

/** An exported detector: detections of one image, as plain objects and as the predictor's result (for drawing). */
export interface ExportedDetector {
  kind: 'detector';
  detector: Detector;
  classNames: readonly string[];
  detect(img: RgbImage, o?: DetectionOptions): Promise<{ objects: DetectedObject[]; result: DetectionResult }>;
  dispose(): Promise<void>;
}

/** An exported segmentor: the label map of one image, as a plain object and as the predictor's result. */
export interface ExportedSegmentor {
  kind: 'segmentor';
  segmentor: Segmentor;
  classNames: readonly string[];
  segment(img: RgbImage, o?: SegmentationOptions): Promise<{ segmentation: SemanticSegmentation; prediction: SegPrediction }>;
  dispose(): Promise<void>;
}

/**
 * A detector over an exported graph's runner (fed `image_size` when the graph has that input; one
 * image or a batch per call, as the graph runs). `name` names the file in errors; a refused file's
 * runner is released.
 */
export function exportedDetectorPredictor(det: Detector, model: OnnxModel, runner: Runner, name = 'the model'): DetectorPredictor {
  const inputs = model.info.inputs.map((i) => i.name);
  if (inputs.includes('orig_size')) {
    void Promise.resolve(runner.dispose()).catch(() => undefined);
    throw new UserError(`${name}: this detector export pastes masks in its graph (export --paste-masks, for Triton clients); detect, serve and the page run exports without --paste-masks`);
  }
  const layout = exportedDetectorLayout(inputs, model.info.outputs.map((o) => o.name));
  return DetectorPredictor.fromRunner(det, exportedDetectorRunner(runner, layout));
}

/**
 * The task object of an exported model: a detector (Mask R-CNN, Cascade Mask R-CNN) or a segmentor
 * (its graph returns logits at the input size). Other model types are refused with a one-line error.
 */
export function exportedModel(model: OnnxModel, runner: Runner, name: string): ExportedDetector | ExportedSegmentor {
  const cfg = model.config;
  if (isDetectorConfig(cfg)) {
    const detector = new Detector(cfg);
    const predictor = exportedDetectorPredictor(detector, model, runner, name);
    return {
      kind: 'detector',
      detector,
      classNames: detector.classNames,
      async detect(img, o = {}) {
        const result = await predictor.predict(img, { scoreThr: o.threshold ?? DEFAULT_SCORE_THR, nms: o.nms });
        return { objects: detectedObjects(result, o), result };
      },
      dispose: () => predictor.dispose(),
    };
  }
  if (cfg.type === 'segmentor') {
    const segmentor = new Segmentor(cfg);
    const predictor = new SegmentorPredictor(segmentor, runner);
    return {
      kind: 'segmentor',
      segmentor,
      classNames: segmentor.classNames,
      async segment(img, o = {}) {
        const prediction = await predictor.predict(img, { mode: o.mode ?? cfg.test.mode, tta: o.tta });
        return { segmentation: semanticSegmentation(prediction, segmentor.classNames), prediction };
      },
      dispose: async () => { await runner.dispose(); },
    };
  }
  throw new UserError(`${name}: a ${cfg.type} model; this runs detectors and segmentors`);
}
