/**
 * Segmentation of images, as mmsegmentation's test procedure: keep-ratio rescale into the
 * config's `test_scale`, normalisation, whole or slide inference at that size, logits resized to
 * the original size (bilinear, align_corners=False), argmax. With test-time augmentation, the
 * softmax of every (scale, flip) pass is resized to the original size, flipped back and averaged.
 */
import { UserError } from '../../core/errors.js';
import type { Runner } from '../../core/runner.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { flipRgb, type RgbImage, toTensor } from '../../image/rgb.js';
import {
  accumulateSoftmax, argmax, type Labels, padTensor, resizeArgmax, resizeScores, type ScoreMap, slideInference, topLeft,
} from './segmentor-logits.js';
import { resizeRgbBilinear } from '../../image/resize.js';
import { rescaleSize } from './segmentor-preprocess.js';
import type { Segmentor } from './segmentor.js';

/** The smallest side ConvNeXt accepts (stride 32); smaller inputs are zero-padded, then cropped back. */
export const MIN_SIDE = 32;

export interface SegmentOptions {
  /** Whole image or sliding window (default: the config's `test.mode`). */
  mode?: 'whole' | 'slide';
  /** Flip and multi-scale test-time augmentation (the config's `tta`). */
  tta?: boolean;
}

export interface SegPrediction {
  /** Class per pixel at the original image size. */
  labels: Labels;
  /** Averaged class probabilities at the original size (test-time augmentation only). */
  probs?: ScoreMap;
  /** Sizes (height, width) the network ran at, one per pass. */
  passes: Array<{ height: number; width: number; flip: boolean }>;
}

export interface PredictorOptions {
  /** Largest accumulator of averaged probabilities under TTA, in bytes (default 2 GiB). */
  maxTtaBytes?: number;
}

function hostTensorOf(s: ScoreMap): HostTensor {
  return { shape: [1, s.channels, s.height, s.width], data: s.data };
}

export class SegmentorPredictor {
  private readonly maxTtaBytes: number;

  constructor(readonly model: Segmentor, readonly runner: Runner, opts: PredictorOptions = {}) {
    this.maxTtaBytes = opts.maxTtaBytes ?? 2 ** 31;
  }

  /**
   * Logits of one normalised [1, 3, h, w] tensor: the head's (to be resized to h × w), or, for
   * inputs under 32 pixels (zero-padded to 32 first), already resized to h × w and cropped.
   */
  async forward(x: HostTensor): Promise<ScoreMap> {
    const [, , h, w] = x.shape;
    const padded = padTensor(x, MIN_SIDE, MIN_SIDE);
    const { logits } = await this.runner.run(padded);
    const head = topLeft(logits, logits.shape[2], logits.shape[3]);
    if (padded === x) return head;
    return topLeft(hostTensorOf(resizeScores(head, padded.shape[2], padded.shape[3])), h, w);
  }

  /** Logits of a normalised [1, 3, H, W] tensor at its own size, whole or slide. */
  async logits(x: HostTensor, mode: 'whole' | 'slide' = this.model.config.test.mode): Promise<ScoreMap> {
    return resizeScores(await this.passScores(x, mode), x.shape[2], x.shape[3]);
  }

  /** Whole or slide logits of one pass, at the input size or (whole mode) at the head's resolution. */
  private async passScores(x: HostTensor, mode: 'whole' | 'slide'): Promise<ScoreMap> {
    if (x.shape.length !== 4 || x.shape[0] !== 1) throw new Error(`segmentor: expected one [1, 3, H, W] image, got [${x.shape.join(', ')}]`);
    if (mode === 'whole') return this.forward(x);
    const t = this.model.config.test;
    return slideInference(x, t.crop_size, t.stride, (crop) => this.forward(crop));
  }

  /**
   * Scores whose bilinear resize to height × width equals resize(resize(s, input size), height ×
   * width), as mmseg computes it (logits to the input size, then to the original size).
   */
  private beforeFinalResize(s: ScoreMap, x: HostTensor, height: number, width: number): ScoreMap {
    const [, , h, w] = x.shape;
    if ((s.height === h && s.width === w) || (h === height && w === width)) return s;
    return resizeScores(s, h, w);
  }

  /** The normalised input of one pass: rescale by `ratio` of the test scale, optional flip. */
  prepare(img: RgbImage, ratio: number, flip: boolean): HostTensor {
    const cfg = this.model.config.input;
    const [w, h] = rescaleSize(img.width, img.height, cfg.test_scale, ratio);
    const resized = resizeRgbBilinear(img, w, h);
    return toTensor(flip ? flipRgb(resized) : resized, cfg.mean, cfg.std);
  }

  /** Segments one decoded image. */
  async predict(img: RgbImage, opts: SegmentOptions = {}): Promise<SegPrediction> {
    const mode = opts.mode ?? this.model.config.test.mode;
    const { width: W, height: H } = img;
    if (!opts.tta) {
      const x = this.prepare(img, 1, false);
      const scores = this.beforeFinalResize(await this.passScores(x, mode), x, H, W);
      return { labels: resizeArgmax(scores, H, W), passes: [{ height: x.shape[2], width: x.shape[3], flip: false }] };
    }
    const C = this.model.config.num_classes;
    const bytes = 4 * C * H * W;
    if (bytes > this.maxTtaBytes) {
      throw new UserError(`test-time augmentation of a ${W}x${H} image with ${C} classes needs ${(bytes / 2 ** 30).toFixed(1)} GiB of averaged probabilities; resize the image or run without --tta`);
    }
    const acc = new Float32Array(C * H * W);
    const tta = this.model.config.tta;
    const flips = tta.flip ? [false, true] : [false];
    const passes: SegPrediction['passes'] = [];
    for (const ratio of tta.scales) {
      for (const flip of flips) {
        const x = this.prepare(img, ratio, flip);
        accumulateSoftmax(acc, this.beforeFinalResize(await this.passScores(x, mode), x, H, W), H, W, flip);
        passes.push({ height: x.shape[2], width: x.shape[3], flip });
      }
    }
    const n = passes.length;
    for (let i = 0; i < acc.length; i++) acc[i] /= n;
    const probs: ScoreMap = { channels: C, height: H, width: W, data: acc };
    return { labels: argmax(probs), probs, passes };
  }

  /**
   * Segments several decoded images. In whole mode without test-time augmentation, images that
   * rescale to the same size (and at least 32 pixels) run as one batch of the engine, with the
   * same result per image as {@link predict}; otherwise they run one by one. `batched: false` is
   * for runners that take one image (an export with a fixed batch of 1).
   */
  async predictBatch(imgs: readonly RgbImage[], opts: SegmentOptions = {}, batched = true): Promise<SegPrediction[]> {
    const mode = opts.mode ?? this.model.config.test.mode;
    const xs = batched && !opts.tta && mode === 'whole' && imgs.length > 1 ? imgs.map((img) => this.prepare(img, 1, false)) : null;
    const [h, w] = xs ? [xs[0].shape[2], xs[0].shape[3]] : [0, 0];
    if (!xs || h < MIN_SIDE || w < MIN_SIDE || xs.some((x) => x.shape[2] !== h || x.shape[3] !== w)) {
      const out: SegPrediction[] = [];
      for (const img of imgs) out.push(await this.predict(img, opts));
      return out;
    }
    const per = xs[0].data.length;
    const data = new Float32Array(per * xs.length);
    xs.forEach((x, i) => data.set(x.data, i * per));
    const { logits } = await this.runner.run({ shape: [xs.length, 3, h, w], data });
    const [, C, lh, lw] = logits.shape;
    const n = C * lh * lw;
    return imgs.map((img, i) => {
      const head = topLeft({ shape: [1, C, lh, lw], data: logits.data.subarray(i * n, (i + 1) * n) }, lh, lw);
      const scores = this.beforeFinalResize(head, xs[i], img.height, img.width);
      return { labels: resizeArgmax(scores, img.height, img.width), passes: [{ height: h, width: w, flip: false }] };
    });
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}
