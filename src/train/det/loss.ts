/**
 * The Mask R-CNN training loss (mmdetection 2.x `MaskRCNN.forward_train`) on the tfjs engine, for
 * a batch of padded images: backbone and FPN on the batch; RPN objectness (sigmoid BCE) and box
 * (L1) losses over the sampled anchors of all images, averaged by their count; proposals from the
 * detached RPN outputs; per image RCNN sampling and RoIAlign on its own features; softmax
 * cross-entropy and class-specific L1 box loss averaged over all sampled RoIs; per-class mask BCE
 * over the positive RoIs' 28 × 28 targets. Returns each term as a scalar (keys as mmdetection).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfjsDetOps } from '../../core/tfjs/det-ops.js';
import { gridAnchorsHost } from '../../core/det/anchors.js';
import { mapRoiLevels } from '../../heads/roi/levels.js';
import type { Detector } from '../../tasks/detector.js';
import { binaryCrossEntropy, crossEntropy, l1Loss, maskCrossEntropy, smoothL1Loss } from '../losses/index.js';
import type { TrainRng } from '../rng.js';
import { assignerOptions, type DetTrainConfig, samplerOptions } from './config.js';
import { RoiHead } from '../../heads/roi/roi-head.js';
import { proposalsHost } from './proposals-host.js';
import { roiAlignTfjs } from '../../core/tfjs/roi-align.js';
import { type GtInstances, maskTargets, rcnnTargets, rpnTargets } from './targets.js';

/** The loss terms of one batch. */
export type DetLosses = Record<'loss_rpn_cls' | 'loss_rpn_bbox' | 'loss_cls' | 'loss_bbox' | 'loss_mask', tf.Scalar>;

/** What one batch holds besides the image tensor. */
export interface DetBatchTargets {
  /** Valid [height, width] of each image inside the padded batch. */
  sizes: ReadonlyArray<readonly [number, number]>;
  gts: readonly GtInstances[];
}

/** Extra outputs of a loss call, for logging and tests. */
export interface DetLossInfo {
  rpnPos: number;
  rpnNeg: number;
  rois: number;
  roiPos: number;
  proposals: number[];
}

function boxLoss(pred: tf.Tensor, target: tf.Tensor, weight: tf.Tensor, avgFactor: number, c: DetTrainConfig['rpn']['loss_bbox']): tf.Tensor {
  const opts = { weight, avgFactor, lossWeight: c.loss_weight };
  return c.type === 'l1' ? l1Loss(pred, target, opts) : smoothL1Loss(pred, target, { ...opts, beta: c.beta });
}

function sliceImage(t: tf.Tensor, i: number, n: number): tf.Tensor {
  return n === 1 ? t : tf.slice(t, [i, 0, 0, 0], [1, -1, -1, -1]);
}

/**
 * The loss terms of a batch `x` (NHWC, normalised, padded) under the training-mode `ops`.
 * Sampling draws from `rng`. Call inside `tf.variableGrads` (the host steps read values
 * synchronously).
 */
export function detectorLosses(det: Detector, ops: TfjsDetOps, x: tf.Tensor, batch: DetBatchTargets, cfg: DetTrainConfig, rng: TrainRng, info?: DetLossInfo): DetLosses {
  const [n, inH, inW] = x.shape as number[];
  if (batch.gts.length !== n || batch.sizes.length !== n) throw new Error(`detector loss: ${n} images but ${batch.gts.length} targets`);
  const v = det.conventions;
  const roiHead = det.roiHead;
  if (!(roiHead instanceof RoiHead)) throw new Error(`training supports Mask R-CNN; ${det.config.type} cannot be trained yet`);
  const pyramid = det.neckForward(ops, det.backboneForward(ops, x));
  const heads = pyramid.map((f) => det.rpnHead.forward(ops, f));

  // RPN targets over all anchors of every image.
  const levelAnchors = pyramid.map((f, l) => gridAnchorsHost(det.anchorGrids[l], f.shape[1] as number, f.shape[2] as number, inH, inW));
  const total = levelAnchors.reduce((s, a) => s + a.length / 4, 0);
  const anchors = new Float32Array(4 * total);
  let off = 0;
  for (const a of levelAnchors) {
    anchors.set(a, off);
    off += a.length;
  }
  const lab = new Float32Array(n * total);
  const labW = new Float32Array(n * total);
  const tgt = new Float32Array(n * total * 4);
  const tgtW = new Float32Array(n * total * 4);
  let samples = 0;
  let rpnPos = 0;
  const rpnAssigner = assignerOptions(cfg.rpn.assigner);
  const rpnSampler = samplerOptions(cfg.rpn.sampler, false);
  for (let i = 0; i < n; i++) {
    const t = rpnTargets(anchors, batch.gts[i], rpnAssigner, rpnSampler, v.rpnCoder, rng);
    lab.set(t.labels, i * total);
    labW.set(t.labelWeights, i * total);
    tgt.set(t.bboxTargets, i * total * 4);
    tgtW.set(t.bboxWeights, i * total * 4);
    samples += t.numPos + t.numNeg;
    rpnPos += t.numPos;
  }
  // Per level, as mmdetection's loss_single (concatenating along anchors would make the gradient
  // a strided split, which the wasm backend reads back to the host).
  const avg = Math.max(samples, 1);
  const rpnCls: tf.Tensor[] = [];
  const rpnBox: tf.Tensor[] = [];
  let a0 = 0;
  heads.forEach((h, l) => {
    const k = levelAnchors[l].length / 4;
    const pick = (src: Float32Array, width: number) => {
      const out = new Float32Array(n * k * width);
      for (let i = 0; i < n; i++) out.set(src.subarray((i * total + a0) * width, (i * total + a0 + k) * width), i * k * width);
      return out;
    };
    rpnCls.push(binaryCrossEntropy(tf.reshape(h.cls, [n, k]), tf.tensor2d(pick(lab, 1), [n, k]), { weight: tf.tensor2d(pick(labW, 1), [n, k]), avgFactor: avg, lossWeight: cfg.rpn.loss_cls_weight }));
    rpnBox.push(boxLoss(tf.reshape(h.reg, [n, k, 4]), tf.tensor3d(pick(tgt, 4), [n, k, 4]), tf.tensor3d(pick(tgtW, 4), [n, k, 4]), avg, cfg.rpn.loss_bbox));
    a0 += k;
  });
  const lossRpnCls = tf.addN(rpnCls);
  const lossRpnBbox = tf.addN(rpnBox);

  // Proposals from the detached RPN outputs.
  const clsData = heads.map((h) => h.cls.dataSync());
  const regData = heads.map((h) => h.reg.dataSync());
  const perImage = levelAnchors.map((a) => a.length / 4);
  const rp = cfg.rpn_proposal;
  const propOpts = { nmsPre: rp.nms_pre, maxPerImg: rp.max_per_img, iouThr: rp.iou_threshold, minSize: rp.min_bbox_size, minSizeInclusive: false, coder: det.proposalOptions.coder };

  const o = det.roiHead.o;
  const numLevels = o.strides.length;
  const scales = o.strides.map((s) => 1 / s);
  const c = det.config.num_classes;
  const bgFirst = v.background === 'first';
  const rcnnAssigner = assignerOptions(cfg.rcnn.assigner);
  const rcnnSampler = samplerOptions(cfg.rcnn.sampler, cfg.rcnn.add_gt_as_proposals);
  const boxFeats: tf.Tensor[] = [];
  const maskFeats: tf.Tensor[] = [];
  const roiLabels: number[] = [];
  const roiTargets: number[] = [];
  const roiWeights: number[] = [];
  const maskLabels: number[] = [];
  const maskTgts: Float32Array[] = [];
  const proposalCounts: number[] = [];
  let roiPos = 0;
  for (let i = 0; i < n; i++) {
    const levels = perImage.map((k, l) => ({
      logits: clsData[l].subarray(i * k, (i + 1) * k),
      deltas: regData[l].subarray(i * k * 4, (i + 1) * k * 4),
      anchors: levelAnchors[l],
    }));
    const props = proposalsHost(levels, batch.sizes[i], propOpts);
    proposalCounts.push(props.length / 4);
    const t = rcnnTargets(props, batch.gts[i], rcnnAssigner, rcnnSampler, v.rcnnCoder, rng);
    const r = t.rois.length / 4;
    if (r === 0) continue;
    const feats = pyramid.slice(0, numLevels).map((f) => sliceImage(f, i, n));
    const levelOf = (boxes: Float32Array) => tf.tidy(() => mapRoiLevels(ops, tf.tensor2d(boxes, [boxes.length / 4, 4]), numLevels, o.levels).dataSync());
    boxFeats.push(roiAlignTfjs(feats, t.rois, levelOf(t.rois), scales, o.boxRoi));
    for (let k = 0; k < r; k++) {
      const l = t.labels[k];
      roiLabels.push(l < 0 ? (bgFirst ? 0 : c) : bgFirst ? l + 1 : l);
      for (let j = 0; j < 4; j++) {
        roiTargets.push(k < t.numPos ? t.bboxTargets[4 * k + j] : 0);
        roiWeights.push(k < t.numPos ? 1 : 0);
      }
    }
    roiPos += t.numPos;
    if (t.numPos > 0) {
      const pos = t.rois.slice(0, 4 * t.numPos);
      maskFeats.push(roiAlignTfjs(feats, pos, levelOf(pos), scales, o.maskRoi));
      maskTgts.push(maskTargets(t.rois, t.posGtInds, batch.gts[i], cfg.rcnn.mask_size));
      for (let k = 0; k < t.numPos; k++) maskLabels.push(t.labels[k] + (v.maskWithBackground ? 1 : 0));
    }
  }
  if (info) Object.assign(info, { rpnPos, rpnNeg: samples - rpnPos, rois: roiLabels.length, roiPos, proposals: proposalCounts });

  let lossCls: tf.Tensor = tf.scalar(0);
  let lossBbox: tf.Tensor = tf.scalar(0);
  let lossMask: tf.Tensor = tf.scalar(0);
  if (boxFeats.length > 0) {
    const { cls: logits, reg: deltas } = roiHead.bbox.raw(ops, boxFeats.length === 1 ? boxFeats[0] : tf.concat(boxFeats, 0));
    const r = roiLabels.length;
    lossCls = crossEntropy(logits, tf.tensor1d(roiLabels, 'int32'), { avgFactor: r, lossWeight: cfg.rcnn.loss_cls_weight });
    // Class-specific deltas of each RoI's label by a one-hot product (gather lacks a wasm gradient).
    const cols = deltas.shape[1] as number / 4;
    const regIndex = roiLabels.map((l) => {
      const fg = bgFirst ? l - 1 : l;
      if (fg < 0 || fg >= c) return -1;
      return v.regWithBackground && bgFirst ? fg + 1 : fg;
    });
    const hot = tf.cast(tf.equal(tf.expandDims(tf.tensor1d(regIndex, 'int32'), 1), tf.range(0, cols, 1, 'int32')), 'float32');
    const picked = tf.sum(tf.mul(tf.reshape(deltas, [r, cols, 4]), tf.expandDims(hot, 2)), 1);
    lossBbox = roiPos === 0
      ? tf.mul(tf.sum(picked), 0)
      : boxLoss(picked, tf.tensor2d(roiTargets, [r, 4]), tf.tensor2d(roiWeights, [r, 4]), r, cfg.rcnn.loss_bbox);
  }
  if (maskFeats.length > 0) {
    const logits = roiHead.mask.raw(ops, maskFeats.length === 1 ? maskFeats[0] : tf.concat(maskFeats, 0));
    const p = maskLabels.length;
    const s = cfg.rcnn.mask_size;
    const targets = new Float32Array(p * s * s);
    let k = 0;
    for (const t of maskTgts) {
      targets.set(t, k);
      k += t.length;
    }
    lossMask = maskCrossEntropy(logits, tf.tensor3d(targets, [p, s, s]), tf.tensor1d(maskLabels, 'int32'), { lossWeight: cfg.rcnn.loss_mask_weight });
  }
  return {
    loss_rpn_cls: lossRpnCls as tf.Scalar,
    loss_rpn_bbox: lossRpnBbox as tf.Scalar,
    loss_cls: lossCls as tf.Scalar,
    loss_bbox: lossBbox as tf.Scalar,
    loss_mask: lossMask as tf.Scalar,
  };
}
