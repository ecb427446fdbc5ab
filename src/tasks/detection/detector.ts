/**
 * Two-stage detectors at test time: Mask R-CNN (He et al. 2017) as mmdetection's and
 * torchvision's `MaskRCNN` compute it, and Cascade Mask R-CNN (Cai & Vasconcelos 2018) as
 * mmdetection 2.x's `CascadeRCNN`: backbone (`backbone.*`), FPN (`neck.*`), RPN (`rpn_head.*`),
 * box and mask heads (`roi_head.bbox_head[.{s}].*`, `roi_head.mask_head[.{s}].*`). Model code
 * runs on any engine implementing {@link DetOps}; one image per call.
 */
import { buildBackbone } from '../../backbones/index.js';
import type { DetOps } from '../../core/det-ops.js';
import type { FeatureSpec } from '../../core/feature-spec.js';
import type { Network } from '../../core/model.js';
import type { Ops } from '../../core/ops.js';
import { Scope } from '../../core/params.js';
import { type ConventionValues, conventionValues, DEFAULT_NECK, type DetectorConfig, maskPasteValues } from '../../config/detector.js';
import type { RpnHead } from '../../heads/rpn/contract.js';
import { RPN_HEADS } from '../../heads/rpn/index.js';
import type { RoiHead } from '../../heads/roi/contract.js';
import { ROI_HEADS } from '../../heads/roi/index.js';
import { type Backbone, backboneLevels, type Neck } from '../../core/components.js';
import { NECKS } from '../../necks/index.js';
import { COCO_CLASSES } from './detector-classes.js';

/** Raw detector outputs (input-image coordinates, before rescaling and mask pasting). */
export interface DetectorOutputs<T> {
  /** RPN proposals [P, 4] and objectness [P]. */
  proposals: T;
  proposalScores: T;
  /** Detections: boxes [D, 4], scores [D], labels [D] (0-based, float), mask probabilities [D, 1, 28, 28]. */
  boxes: T;
  scores: T;
  labels: T;
  masks: T;
}

/** True when `ops` implements the detection op set. */
export function isDetOps<T>(ops: Ops<T>): ops is DetOps<T> {
  return typeof (ops as Partial<DetOps<T>>).roiAlign === 'function';
}

/** `ops` as the detection op set; the engines' generic runners and graph builders construct it. */
export function detOps<T>(ops: Ops<T>): DetOps<T> {
  if (isDetOps(ops)) return ops;
  throw new Error(`a detector needs the detection ops, which this ${ops.engine} engine instance lacks`);
}

export class Detector {
  readonly scope = Scope.root();
  readonly backbone: Backbone;
  /** Backbone levels fed to the FPN: `norm{i}` outputs with out_indices, else the raw stages. */
  readonly backboneSpecs: readonly FeatureSpec[];
  readonly neck: Neck;
  readonly rpnHead: RpnHead;
  readonly roiHead: RoiHead;
  /** The profile's values with the config's input settings (the RPN and RoI heads apply their own). */
  readonly conventions: ConventionValues;
  /** How masks are pasted at the original size. */
  readonly maskPaste: { paste: 'grid_sample' | 'torchvision'; maskThr: number };
  readonly classNames: readonly string[];
  private readonly levels: ReturnType<typeof backboneLevels>;

  constructor(readonly config: DetectorConfig) {
    const v = (this.conventions = conventionValues(config));
    this.backbone = buildBackbone(this.scope.child('backbone'), config.backbone);
    this.levels = backboneLevels(this.backbone, config.backbone.out_indices !== undefined);
    this.backboneSpecs = this.levels.specs;
    this.neck = NECKS.build(this.scope.child('neck'), this.backboneSpecs, config.neck ?? DEFAULT_NECK);
    const pyramid = this.neck.outSpecs;
    this.rpnHead = RPN_HEADS.build(this.scope.child('rpn_head'), pyramid, config.rpn_head, { conventions: v });
    // RoIs pool from the pyramid levels the neck made of backbone levels (not the extra ones).
    const roiStrides = new Set(this.neck.inSpecs.map((s) => s.stride));
    const pooled = pyramid.filter((s) => roiStrides.has(s.stride));
    const numClasses = config.num_classes;
    this.roiHead = ROI_HEADS.build(this.scope.child('roi_head'), pooled, config.roi_head, { numClasses, conventions: v });
    this.maskPaste = maskPasteValues(config);
    const names = config.class_names;
    this.classNames = names === 'coco' ? COCO_CLASSES : names ?? Array.from({ length: numClasses }, (_, i) => `class_${i}`);
  }

  /** Backbone levels keyed by name (p2…p5). */
  backboneForward<T>(ops: Ops<T>, image: T): Record<string, T> {
    return this.levels.forward(ops, image);
  }

  /** FPN outputs in stride order (p2…p6). */
  neckForward<T>(ops: Ops<T>, feats: Record<string, T>): T[] {
    return this.neck.forward(ops, feats);
  }

  /** RPN proposals [P, 4] and their scores [P]; `imageSize` is [height, width] of the valid (unpadded) image. */
  rpnForward<T>(ops: DetOps<T>, pyramid: readonly T[], image: T, imageSize: T): { boxes: T; scores: T } {
    return this.rpnHead.proposals(ops, pyramid, image, imageSize);
  }

  /** The whole detector on one image [1, 3, H, W] (padded), `imageSize` [2] its valid height and width. */
  forward<T>(ops: DetOps<T>, image: T, imageSize: T): DetectorOutputs<T> {
    const pyramid = this.neckForward(ops, this.backboneForward(ops, image));
    const props = this.rpnForward(ops, pyramid, image, imageSize);
    const det = this.roiHead.detect(ops, pyramid, props.boxes, imageSize);
    const masks = this.roiHead.segment(ops, pyramid, det.boxes, det.labels);
    return { proposals: props.boxes, proposalScores: props.scores, ...det, masks };
  }

  /**
   * The detector as a single-input {@link Network} (the valid image is the whole input):
   * `dets` [D, 6] (x1, y1, x2, y2, score, label), `masks` [D, 1, 28, 28], `proposals` [P, 5]
   * (box, score). The generic network builders (`buildOnnx`, `TfjsRunner`) construct engine
   * instances with the detection ops, so they run it. The graph takes one image (`batch: 1`):
   * an export declares input [1, 3, H, W], so a batch is refused by name instead of failing
   * inside the graph.
   */
  network(): Network {
    return {
      registry: this.scope.registry,
      inputChannels: this.config.backbone.in_channels,
      batch: 1,
      outputs: { dets: 2, masks: 4, proposals: 2 },
      forward: <T>(ops: Ops<T>, x: T) => {
        const d = detOps(ops);
        return packOutputs(d, this.forward(d, x, d.spatialSize(x)));
      },
    };
  }

  /**
   * The detector as a {@link Network} with a second input, the table `image_size` [2] (valid
   * height and width inside the padded `input`): what the detector runners and their graph run.
   */
  runnerNetwork(): Network {
    return {
      ...this.network(),
      batch: 1,
      tables: { image_size: [2] },
      forward: <T>(ops: Ops<T>, x: T, tables?: Readonly<Record<string, T>>) => {
        const size = tables?.image_size;
        if (size === undefined) throw new Error('detector: the image_size input is missing');
        const d = detOps(ops);
        return packOutputs(d, this.forward(d, x, size));
      },
    };
  }

  /**
   * The detector on a batch, the graph an export holds: `input` [N, 3, H, W] (images padded to
   * one size) and, with `imageSizeInput`, the table `image_size` [N, 2] (each image's valid
   * height and width; without it each image is the whole input). Backbone and neck run on the
   * batch, the heads once per image (an ONNX Loop). Outputs, each image's rows padded with zeros:
   * `dets` [N, K, 6], `masks` [N, K, 1, m, m], `num_dets` [N] (valid rows), `proposals`
   * [N, P, 5], `num_proposals` [N]; K and P are the RoI and RPN heads' test-time `max_per_img`.
   * An image's valid rows equal what {@link runnerNetwork} gives for it alone at the batch's size.
   *
   * `pasteMasks` (with `imageSizeInput`; mmdetection's paste only) also takes `orig_size` [N, 2]
   * (each image's original height and width) and does the rest of the post-processing: `dets`
   * boxes in original pixels, and `masks` [N, K, 1, Hmax, Wmax] the binary masks pasted at the
   * original size (uint8 in an ONNX graph), each image's in the top-left corner of planes as large
   * as the batch's largest original.
   */
  batchNetwork(imageSizeInput: boolean, opts: { pasteMasks?: boolean } = {}): Network {
    const maxDets = this.roiHead.o.test.maxPerImg;
    const maxProposals = this.rpnHead.proposalOptions.maxPerImg;
    const m = 2 * this.roiHead.o.maskRoi.output;
    const paste = opts.pasteMasks ?? false;
    if (paste && !imageSizeInput) throw new Error('detector: pasting masks in the graph needs the image_size input');
    if (paste && this.maskPaste.paste !== 'grid_sample') throw new Error(`detector: the graph pastes masks as mmdetection does; this config pastes as ${this.maskPaste.paste}`);
    const rounding = this.conventions.input.rounding;
    return {
      registry: this.scope.registry,
      inputChannels: this.config.backbone.in_channels,
      outputs: { dets: 3, masks: 5, num_dets: 1, proposals: 3, num_proposals: 1 },
      ...(imageSizeInput ? { tables: paste ? { image_size: [-1, 2], orig_size: [-1, 2] } : { image_size: [-1, 2] } } : {}),
      ...(paste ? { outputTypes: { masks: 'uint8' } } : {}),
      forward: <T>(ops: Ops<T>, x: T, tables?: Readonly<Record<string, T>>) => {
        const d = detOps(ops);
        const size = tables?.image_size;
        const orig = tables?.orig_size;
        if (imageSizeInput && size === undefined) throw new Error('detector: the image_size input is missing');
        if (paste && orig === undefined) throw new Error('detector: the orig_size input is missing');
        const plane = orig === undefined ? undefined : d.columnMax(orig);
        const pyramid = this.neckForward(d, this.backboneForward(d, x));
        const rows = [size, orig].filter((t): t is T => t !== undefined);
        const { outputs, counts } = d.perImage(pyramid, rows, (o, maps, [valid, original]) => {
          const props = this.rpnForward(o, maps, x, valid ?? o.spatialSize(x));
          const det = this.roiHead.detect(o, maps, props.boxes, valid ?? o.spatialSize(x));
          const probs = this.roiHead.segment(o, maps, det.boxes, det.labels);
          if (!(paste && valid && original && plane)) {
            const packed = packOutputs(o, { proposals: props.boxes, proposalScores: props.scores, ...det, masks: probs });
            return { dets: packed.dets, masks: o.flatten(packed.masks), proposals: packed.proposals };
          }
          const boxes = rescaleBoxes(o, det.boxes, valid, original, rounding);
          const packed = packOutputs(o, { proposals: props.boxes, proposalScores: props.scores, ...det, boxes, masks: probs });
          return { dets: packed.dets, masks: o.pasteMasks(probs, boxes, plane, this.maskPaste.maskThr, original), proposals: packed.proposals };
        }, { dets: maxDets, masks: maxDets, proposals: maxProposals }, { uint8: paste ? ['masks'] : [] });
        return {
          dets: outputs.dets,
          // Pasted planes are already [N, K, 1, H, W]; probabilities come flattened per detection.
          masks: paste ? outputs.masks : d.reshape(outputs.masks, [-1, maxDets, 1, m, m]),
          num_dets: counts.dets,
          proposals: outputs.proposals,
          num_proposals: counts.proposals,
        };
      },
    };
  }
}

/**
 * Boxes [D, 4] of the resized image (valid size `size` [2]) in the original image's pixels
 * (`orig` [2]), as the predictor maps them back: divided by the scale factors new / old
 * (mmdetection, rounding 'round') or multiplied by old / new (torchvision), in float32.
 */
function rescaleBoxes<T>(ops: DetOps<T>, boxes: T, size: T, orig: T, rounding: 'round' | 'floor'): T {
  const perAxis = rounding === 'round' ? ops.div(size, orig) : ops.div(orig, size); // [h, w] factors
  const [fy, fx] = [ops.element(perAxis, 0), ops.element(perAxis, 1)];
  const xyxy = ops.concatRows([fx, fy, fx, fy]);
  return rounding === 'round' ? ops.div(boxes, xyxy) : ops.mul(boxes, xyxy);
}

/** The packed outputs of a detector network: `dets` [D, 6], `masks` [D, 1, 28, 28], `proposals` [P, 5]. */
export function packOutputs<T>(ops: DetOps<T>, o: DetectorOutputs<T>): Record<string, T> {
  const box = (b: T) => [0, 1, 2, 3].map((i) => ops.column(b, i));
  return {
    dets: ops.stackColumns([...box(o.boxes), o.scores, o.labels]),
    masks: o.masks,
    proposals: ops.stackColumns([...box(o.proposals), o.proposalScores]),
  };
}
