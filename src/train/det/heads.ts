/**
 * Training-time outputs of the Mask R-CNN RoI heads: the raw logits that the losses need (the
 * inference heads in src/heads/roi return probabilities after softmax / sigmoid). They apply the
 * same declared parameters (looked up by name in the detector's registry) with the same ops, so
 * softmax(bboxLogits) equals BBoxHead's scores and sigmoid(maskLogits) MaskHead's probabilities
 * (tested); the inference code is left untouched.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ParamRef } from '../../core/params.js';
import type { TfjsDetOps } from '../../core/tfjs/det-ops.js';
import type { Detector } from '../../tasks/detector.js';

function ref(det: Detector, name: string): ParamRef {
  const r = det.scope.registry.get(name);
  if (!r) throw new Error(`detector has no parameter ${name}`);
  return r;
}

/** Class logits [R, C + 1] and deltas [R, 4C] (4(C + 1) with regWithBackground) of pooled RoI features [R, C, 7, 7]. */
export function bboxLogits(ops: TfjsDetOps, det: Detector, roiFeats: tf.Tensor): { cls: tf.Tensor; reg: tf.Tensor } {
  const p = 'roi_head.bbox_head';
  let x = ops.flatten(roiFeats);
  for (const k of [0, 1]) x = ops.relu(ops.linear(x, ref(det, `${p}.shared_fcs.${k}.weight`), ref(det, `${p}.shared_fcs.${k}.bias`)));
  return {
    cls: ops.linear(x, ref(det, `${p}.fc_cls.weight`), ref(det, `${p}.fc_cls.bias`)),
    reg: ops.linear(x, ref(det, `${p}.fc_reg.weight`), ref(det, `${p}.fc_reg.bias`)),
  };
}

/** Mask logits of every class channel, feature maps [R, Cm, 28, 28], of pooled RoI features [R, C, 14, 14]. */
export function maskLogits(ops: TfjsDetOps, det: Detector, roiFeats: tf.Tensor): tf.Tensor {
  const p = 'roi_head.mask_head';
  const numConvs = det.config.roi_head?.mask_head?.num_convs ?? 4;
  let x = roiFeats;
  for (let k = 0; k < numConvs; k++) x = ops.relu(ops.conv2d(x, ref(det, `${p}.convs.${k}.conv.weight`), ref(det, `${p}.convs.${k}.conv.bias`), { padding: 1 }));
  x = ops.relu(ops.convTranspose2d(x, ref(det, `${p}.upsample.weight`), ref(det, `${p}.upsample.bias`), { stride: 2 }));
  return ops.conv2d(x, ref(det, `${p}.conv_logits.weight`), ref(det, `${p}.conv_logits.bias`));
}
