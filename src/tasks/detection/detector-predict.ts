/**
 * The detection API: image in, instances out (boxes in original-image pixels, scores, labels,
 * class names, binary masks pasted at the original size), and their COCO result form (xywh boxes,
 * compressed RLE masks as pycocotools encodes them).
 */
import { compressRle, type Rle } from '../../io/coco/rle.js';
import type { CocoResult } from '../../io/coco/types.js';
import type { RgbImage } from '../../image/rgb.js';
import { batchedNmsHost } from '../../core/det/nms.js';
import { COCO_CATEGORY_IDS } from './detector-classes.js';
import { collateInputs, type DetInput, detectionInput, rescaleBox } from './detector-input.js';
import { type MaskRegion, pasteMask } from '../../core/det/paste.js';
import type { DetectorRunner, RawDetections } from './detector-runner.js';
import type { Detector } from './detector.js';

/** One detected instance. */
export interface Instance {
  /** [x1, y1, x2, y2] in original-image pixels. */
  box: [number, number, number, number];
  score: number;
  /** 0-based class index. */
  label: number;
  className: string;
  /** The binary mask (a region of the original image; 0 outside it). */
  mask: MaskRegion;
}

export interface DetectionResult {
  width: number;
  height: number;
  /** By score, descending. */
  instances: Instance[];
}

export interface PredictOptions {
  /** Drop instances scoring below this (after the model's own test-time threshold). */
  scoreThr?: number;
  /**
   * 'class' (default): the model's class-wise NMS only. 'agnostic': then NMS across classes at the
   * model's RCNN IoU threshold, so one object keeps only its best-scoring class.
   */
  nms?: 'class' | 'agnostic';
}

/** The detections of `dets` [D, 6] scoring at least `scoreThr` and, with agnostic NMS, kept across classes (indices by score). */
function keptDetections(dets: Float32Array, n: number, o: PredictOptions, iouThr: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i).filter((i) => o.scoreThr === undefined || dets[6 * i + 4] >= o.scoreThr);
  if (o.nms !== 'agnostic') return idx;
  const boxes = new Float32Array(idx.length * 4);
  idx.forEach((i, k) => boxes.set(dets.subarray(6 * i, 6 * i + 4), 4 * k));
  const scores = idx.map((i) => dets[6 * i + 4]);
  return batchedNmsHost(boxes, scores, new Array<number>(idx.length).fill(0), iouThr).map((k) => idx[k]);
}

export class DetectorPredictor {
  private constructor(readonly detector: Detector, readonly runner: DetectorRunner) {}

  /** A predictor over an existing detector runner (for example an exported ONNX model's, see `exportedDetectorRunner`). */
  static fromRunner(det: Detector, runner: DetectorRunner): DetectorPredictor {
    return new DetectorPredictor(det, runner);
  }

  /** The network input of decoded RGB pixels (resized, normalised, padded). */
  prepare(img: RgbImage): DetInput {
    return detectionInput(img, { mean: this.detector.config.input.mean, std: this.detector.config.input.std, ...this.detector.conventions.input });
  }

  /** Detects instances in decoded RGB pixels. */
  async predict(img: RgbImage, opts: PredictOptions = {}): Promise<DetectionResult> {
    const input = this.prepare(img);
    const raw = await this.runner.run(input.tensor, input.size);
    return this.decode(raw, input, opts);
  }

  /**
   * Detects instances in several images with one network run: the inputs are padded to one size
   * (the largest), as mmdetection's collate does. An image's detections equal what
   * {@link predict} gives for it padded to that size, so they match its lone result exactly when
   * all images pad to the same size, and within the padding's small effect otherwise.
   */
  async predictBatch(imgs: readonly RgbImage[], opts: PredictOptions = {}): Promise<DetectionResult[]> {
    // A one-image graph runs them one by one, each at its own size.
    if (!this.runner.batches) {
      const results: DetectionResult[] = [];
      for (const img of imgs) results.push(await this.predict(img, opts));
      return results;
    }
    const inputs = imgs.map((img) => this.prepare(img));
    const raws = await this.runner.runBatch(collateInputs(inputs), inputs.map((i) => i.size));
    return raws.map((raw, i) => this.decode(raw, inputs[i], opts));
  }

  /** Raw network outputs → instances in original-image coordinates with pasted masks. */
  decode(raw: RawDetections, input: DetInput, opts: PredictOptions = {}): DetectionResult {
    const v = this.detector.conventions;
    const [height, width] = input.original;
    const n = raw.dets.shape[0];
    const m = raw.masks.shape[3] ?? 28;
    const instances: Instance[] = [];
    for (const i of keptDetections(raw.dets.data, n, opts, this.detector.roiHead.o.test.iouThr)) {
      const d = raw.dets.data.subarray(6 * i, 6 * i + 6);
      const box = rescaleBox(Array.from(d.subarray(0, 4)), input, v.input.rounding);
      const probs = raw.masks.data.subarray(m * m * i, m * m * (i + 1));
      const label = Math.round(d[5]);
      instances.push({
        box,
        score: d[4],
        label,
        className: this.detector.classNames[label] ?? `class_${label}`,
        mask: pasteMask(this.detector.maskPaste.paste, probs, m, box, height, width, this.detector.maskPaste.maskThr),
      });
    }
    return { width, height, instances };
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}

/** Category id of a label: COCO's ids for the 80 COCO classes, else label + 1. */
export function categoryId(label: number, cocoClasses: boolean, categoryIds?: readonly number[]): number {
  if (categoryIds) return categoryIds[label];
  return cocoClasses ? COCO_CATEGORY_IDS[label] : label + 1;
}

/**
 * COCO results of one image: `bbox` (xywh) and/or `segmentation` (compressed RLE) per instance.
 * `categoryIds` maps labels to category ids (default: COCO's ids when `cocoClasses`, else label + 1).
 */
export function toCocoResults(
  r: DetectionResult, imageId: number, o: { cocoClasses: boolean; categoryIds?: readonly number[]; bbox?: boolean; segm?: boolean },
): CocoResult[] {
  return r.instances.map((ins) => {
    const [x1, y1, x2, y2] = ins.box;
    const res: CocoResult = { image_id: imageId, category_id: categoryId(ins.label, o.cocoClasses, o.categoryIds), score: ins.score };
    if (o.bbox !== false) res.bbox = [x1, y1, x2 - x1, y2 - y1];
    if (o.segm !== false) res.segmentation = compressRle(regionToRle(ins.mask, r.height, r.width));
    return res;
  });
}

/**
 * COCO RLE (column-major runs, starting with 0s) of a mask region in an imgH × imgW image,
 * without materialising the full mask (the same counts as `encodeMask` of the full mask).
 */
export function regionToRle(r: MaskRegion, imgH: number, imgW: number): Rle {
  const counts: number[] = [];
  let cur = 0;
  let run = 0;
  const push = (v: number, n: number) => {
    if (n <= 0) return;
    if (v !== cur) {
      counts.push(run);
      run = 0;
      cur = v;
    }
    run += n;
  };
  for (let x = 0; x < imgW; x++) {
    const i = x - r.x0;
    if (i < 0 || i >= r.width || r.height === 0) {
      push(0, imgH);
      continue;
    }
    push(0, r.y0);
    for (let j = 0; j < r.height; j++) push(r.data[j * r.width + i] ? 1 : 0, 1);
    push(0, imgH - r.y0 - r.height);
  }
  counts.push(run);
  return { h: imgH, w: imgW, counts: Uint32Array.from(counts) };
}
