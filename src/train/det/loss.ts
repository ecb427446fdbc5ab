/**
 * The training loss of Mask R-CNN and Cascade Mask R-CNN (mmdetection 2.x `MaskRCNN` /
 * `CascadeRCNN.forward_train`) on the tfjs engine, for a batch of padded images: backbone and neck
 * on the batch; RPN targets over the anchors of all images and the RPN head's loss; proposals
 * from the detached RPN outputs; then each RCNN stage (one for Mask R-CNN): per image sampling and
 * RoIAlign on its own features, targets, the stage's box and mask heads' losses, and for a
 * cascade the refined RoIs of the next stage. The heads compute the loss terms (their `loss`
 * methods); this module assigns, samples and builds their targets. Returns each term as a scalar
 * (keys as mmdetection).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfjsDetOps } from '../../core/tfjs/det-ops.js';
import { gridAnchorsHost } from '../../core/det/anchors.js';
import { mapRoiLevels } from '../../heads/roi/levels.js';
import type { Detector } from '../../tasks/detection/detector.js';
import type { TrainRng } from '../../data/rng.js';
import { assignerOptions, type BoxLossConfig, cascadeAssigner, cascadeStages, type DetTrainConfig, samplerOptions } from './config.js';
import type { RpnLevelTargets } from '../../heads/rpn/rpn-head.js';
import type { BBoxHead } from '../../heads/roi/bbox-head.js';
import type { MaskHead } from '../../heads/roi/mask-head.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import type { AssignerOptions } from './assign.js';
import { takeRows } from './boxes.js';
import { decodeBox } from '../../core/det/coder-host.js';
import { proposalsHost } from './proposals-host.js';
import { roiAlignTfjs } from '../../core/tfjs/roi-align.js';
import { type GtInstances, maskTargets, type RcnnTargets, rcnnTargets, rpnTargets } from './targets.js';

/**
 * The loss terms of one batch, keyed as mmdetection: `loss_rpn_cls`, `loss_rpn_bbox`, then
 * `loss_cls`, `loss_bbox`, `loss_mask` (Mask R-CNN) or `s{i}.loss_cls` … per cascade stage, each
 * already multiplied by its stage loss weight.
 */
export type DetLosses = Record<string, tf.Scalar>;

/** What one batch holds besides the image tensor. */
export interface DetBatchTargets {
  /** Valid [height, width] of each image inside the padded batch. */
  sizes: ReadonlyArray<readonly [number, number]>;
  gts: readonly GtInstances[];
}

/** Extra outputs of a loss call, for logging and tests (RoI counts of the first RCNN stage). */
export interface DetLossInfo {
  rpnPos: number;
  rpnNeg: number;
  rois: number;
  roiPos: number;
  proposals: number[];
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
  const pyramid = det.neckForward(ops, det.backboneForward(ops, x));
  const heads = pyramid.map((f) => det.rpnHead.forward(ops, f));

  // RPN targets over all anchors of every image.
  const levelAnchors = pyramid.map((f, l) => gridAnchorsHost(det.rpnHead.anchorGrids[l], f.shape[1] as number, f.shape[2] as number, inH, inW));
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
    const t = rpnTargets(anchors, batch.gts[i], rpnAssigner, rpnSampler, det.rpnHead.coder, rng);
    lab.set(t.labels, i * total);
    labW.set(t.labelWeights, i * total);
    tgt.set(t.bboxTargets, i * total * 4);
    tgtW.set(t.bboxWeights, i * total * 4);
    samples += t.numPos + t.numNeg;
    rpnPos += t.numPos;
  }
  // Per level, images first (the layout of each level's raw outputs).
  const levelTargets: RpnLevelTargets[] = [];
  let a0 = 0;
  for (const la of levelAnchors) {
    const k = la.length / 4;
    const pick = (src: Float32Array, width: number) => {
      const out = new Float32Array(n * k * width);
      for (let i = 0; i < n; i++) out.set(src.subarray((i * total + a0) * width, (i * total + a0 + k) * width), i * k * width);
      return out;
    };
    levelTargets.push({ labels: pick(lab, 1), labelWeights: pick(labW, 1), deltas: pick(tgt, 4), deltaWeights: pick(tgtW, 4) });
    a0 += k;
  }
  const rpnLosses = det.rpnHead.loss(heads, levelTargets, n, Math.max(samples, 1), { clsWeight: cfg.rpn.loss_cls_weight, box: cfg.rpn.loss_bbox });

  // Proposals from the detached RPN outputs.
  const clsData = heads.map((h) => h.cls.dataSync());
  const regData = heads.map((h) => h.reg.dataSync());
  const perImage = levelAnchors.map((a) => a.length / 4);
  const rp = cfg.rpn_proposal;
  const propOpts = { nmsPre: rp.nms_pre, maxPerImg: rp.max_per_img ?? (det.roiHead.stages.length > 1 ? 2000 : 1000), iouThr: rp.iou_threshold, minSize: rp.min_bbox_size, minSizeInclusive: false, coder: det.rpnHead.coder };

  const proposals: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const levels = perImage.map((k, l) => ({
      logits: clsData[l].subarray(i * k, (i + 1) * k),
      deltas: regData[l].subarray(i * k * 4, (i + 1) * k * 4),
      anchors: levelAnchors[l],
    }));
    proposals.push(proposalsHost(levels, batch.sizes[i], propOpts));
  }
  const losses: Record<string, tf.Scalar> = { loss_rpn_cls: rpnLosses.loss_rpn_cls as tf.Scalar, loss_rpn_bbox: rpnLosses.loss_rpn_bbox as tf.Scalar };
  const stages = rcnnStages(det, cfg);
  let rois = 0;
  let roiPos = 0;
  let props = proposals;
  stages.forEach((stage, s) => {
    const last = s === stages.length - 1;
    const r = rcnnStageLosses(det, ops, pyramid, props, batch, cfg, stage, rng, !last);
    const prefix = stages.length === 1 ? '' : `s${s}.`;
    for (const [k, value] of Object.entries(r.losses)) losses[`${prefix}${k}`] = (stage.weight === 1 ? value : tf.mul(value, stage.weight)) as tf.Scalar;
    if (s === 0) {
      rois = r.rois;
      roiPos = r.roiPos;
    }
    if (r.next) props = r.next;
  });
  if (info) Object.assign(info, { rpnPos, rpnNeg: samples - rpnPos, rois, roiPos, proposals: proposals.map((p) => p.length / 4) });
  return losses;
}

/** What one RCNN stage trains: its heads, coder, assigner, box loss and loss weight. */
interface RcnnStage {
  bbox: BBoxHead;
  mask: MaskHead;
  coder: BoxCoderOptions;
  assigner: AssignerOptions;
  lossBbox: BoxLossConfig;
  /** Regress decoded boxes (against the ground-truth boxes) instead of deltas. */
  decoded: boolean;
  weight: number;
}

/**
 * The RCNN stages of a detector, as its RoI head declares them (heads, coder, loss weight) with
 * their training settings: a single stage trains with `det_train.rcnn` (Mask R-CNN); several, or
 * any head when `det_train.cascade_stages` is set, with the per-stage cascade settings.
 */
function rcnnStages(det: Detector, cfg: DetTrainConfig): RcnnStage[] {
  const stages = det.roiHead.stages;
  if (stages.length === 1 && !cfg.cascade_stages) {
    const s = stages[0];
    return [{ bbox: s.bbox, mask: s.mask, coder: s.coder, assigner: assignerOptions(cfg.rcnn.assigner), lossBbox: cfg.rcnn.loss_bbox, decoded: false, weight: s.lossWeight }];
  }
  const train = cascadeStages(cfg, stages.length);
  return train.map((t, s) => ({
    bbox: stages[s].bbox,
    mask: stages[s].mask,
    coder: stages[s].coder,
    assigner: cascadeAssigner(t.assigner),
    lossBbox: t.loss_bbox,
    decoded: t.reg_decoded_bbox,
    weight: stages[s].lossWeight,
  }));
}

/**
 * One RCNN stage (mmdetection `_bbox_forward_train` + `_mask_forward_train`): per image sampling
 * of the proposals (ground truths added) and RoIAlign on its own features; softmax cross-entropy
 * and the box loss over all sampled RoIs of the batch, per-class mask BCE over the positives.
 * With `refine` it also returns the next stage's proposals (`refine_bboxes`): every sampled RoI
 * but the added ground truths, regressed (detached) by its target class, or for a background RoI
 * by its arg-max foreground class, and clipped to its image.
 */
function rcnnStageLosses(det: Detector, ops: TfjsDetOps, pyramid: tf.Tensor[], props: readonly Float32Array[], batch: DetBatchTargets, cfg: DetTrainConfig, stage: RcnnStage, rng: TrainRng, refine: boolean): { losses: Record<'loss_cls' | 'loss_bbox' | 'loss_mask', tf.Tensor>; rois: number; roiPos: number; next: Float32Array[] | null } {
  const n = props.length;
  const o = det.roiHead.o;
  const numLevels = o.strides.length;
  const scales = o.strides.map((s) => 1 / s);
  const c = det.config.num_classes;
  const bgFirst = stage.bbox.o.background === 'first';
  const sampler = samplerOptions(cfg.rcnn.sampler, cfg.rcnn.add_gt_as_proposals);
  const boxFeats: tf.Tensor[] = [];
  const maskFeats: tf.Tensor[] = [];
  const roiLabels: number[] = [];
  const roiTargets: number[] = [];
  const roiWeights: number[] = [];
  const maskLabels: number[] = [];
  const maskTgts: Float32Array[] = [];
  const sampled: Array<{ image: number; targets: RcnnTargets } | null> = [];
  let roiPos = 0;
  for (let i = 0; i < n; i++) {
    const t = rcnnTargets(props[i], batch.gts[i], stage.assigner, sampler, stage.coder, rng);
    const r = t.rois.length / 4;
    sampled.push(r === 0 ? null : { image: i, targets: t });
    if (r === 0) continue;
    const feats = pyramid.slice(0, numLevels).map((f) => sliceImage(f, i, n));
    const levelOf = (boxes: Float32Array) => tf.tidy(() => mapRoiLevels(ops, tf.tensor2d(boxes, [boxes.length / 4, 4]), numLevels, o.levels).dataSync());
    boxFeats.push(roiAlignTfjs(feats, t.rois, levelOf(t.rois), scales, o.boxRoi));
    const gtBoxes = stage.decoded ? takeRows(batch.gts[i].boxes, t.posGtInds, 4) : t.bboxTargets;
    for (let k = 0; k < r; k++) {
      const l = t.labels[k];
      roiLabels.push(l < 0 ? (bgFirst ? 0 : c) : bgFirst ? l + 1 : l);
      for (let j = 0; j < 4; j++) {
        roiTargets.push(k < t.numPos ? gtBoxes[4 * k + j] : 0);
        roiWeights.push(k < t.numPos ? 1 : 0);
      }
    }
    roiPos += t.numPos;
    if (t.numPos > 0) {
      const pos = t.rois.slice(0, 4 * t.numPos);
      maskFeats.push(roiAlignTfjs(feats, pos, levelOf(pos), scales, o.maskRoi));
      maskTgts.push(maskTargets(t.rois, t.posGtInds, batch.gts[i], cfg.rcnn.mask_size));
      for (let k = 0; k < t.numPos; k++) maskLabels.push(t.labels[k]);
    }
  }

  const r = roiLabels.length;
  let losses: Record<'loss_cls' | 'loss_bbox' | 'loss_mask', tf.Tensor> = { loss_cls: tf.scalar(0), loss_bbox: tf.scalar(0), loss_mask: tf.scalar(0) };
  let next: Float32Array[] | null = null;
  if (boxFeats.length > 0) {
    const raw = stage.bbox.raw(ops, boxFeats.length === 1 ? boxFeats[0] : tf.concat(boxFeats, 0));
    const box = stage.bbox.loss(ops, raw, { labels: roiLabels, rois: concatRois(sampled), targets: roiTargets, weights: roiWeights, numPos: roiPos },
      { clsWeight: cfg.rcnn.loss_cls_weight, box: stage.lossBbox, decoded: stage.decoded, coder: stage.coder });
    losses = { ...losses, ...box };
    if (refine) next = refined(sampled, n, raw.cls.dataSync(), raw.reg.dataSync(), stage, c, batch.sizes);
  } else if (refine) {
    next = Array.from({ length: n }, () => new Float32Array(0));
  }
  if (maskFeats.length > 0) {
    const logits = stage.mask.raw(ops, maskFeats.length === 1 ? maskFeats[0] : tf.concat(maskFeats, 0));
    const targets = new Float32Array(maskTgts.reduce((a, t) => a + t.length, 0));
    let k = 0;
    for (const t of maskTgts) {
      targets.set(t, k);
      k += t.length;
    }
    losses.loss_mask = stage.mask.loss(logits, targets, maskLabels, cfg.rcnn.loss_mask_weight);
  }
  return { losses, rois: r, roiPos, next };
}

function concatRois(sampled: ReadonlyArray<{ targets: RcnnTargets } | null>): Float32Array {
  const parts = sampled.filter((x) => x !== null).map((x) => x.targets.rois);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

/** The next cascade stage's proposals of each image (see {@link rcnnStageLosses}). */
function refined(sampled: ReadonlyArray<{ image: number; targets: RcnnTargets } | null>, n: number, logits: ArrayLike<number>, reg: ArrayLike<number>, stage: RcnnStage, c: number, sizes: ReadonlyArray<readonly [number, number]>): Float32Array[] {
  const out: Float32Array[] = Array.from({ length: n }, () => new Float32Array(0));
  const k1 = c + 1;
  const regCols = stage.bbox.o.classAgnostic ? 4 : 4 * (c + (stage.bbox.o.regWithBackground ? 1 : 0));
  const fgOffset = stage.bbox.o.background === 'first' ? 1 : 0;
  let row = 0;
  for (const x of sampled) {
    if (!x) continue;
    const t = x.targets;
    const [h, w] = sizes[x.image];
    const boxes: number[] = [];
    for (let k = 0; k < t.labels.length; k++, row++) {
      if (k < t.numPos && t.posIsGt[k]) continue;
      let label = t.labels[k];
      if (label < 0) {
        label = 0;
        for (let j = 1; j < c; j++) if (logits[row * k1 + fgOffset + j] > logits[row * k1 + fgOffset + label]) label = j;
      }
      const col = stage.bbox.regGroup(label + fgOffset);
      const d = Array.from({ length: 4 }, (_, j) => reg[row * regCols + 4 * col + j]);
      const b = decodeBox(d, t.rois.subarray(4 * k, 4 * k + 4), stage.coder);
      boxes.push(Math.min(Math.max(b[0], 0), w), Math.min(Math.max(b[1], 0), h), Math.min(Math.max(b[2], 0), w), Math.min(Math.max(b[3], 0), h));
    }
    out[x.image] = Float32Array.from(boxes);
  }
  return out;
}
