/**
 * Multi-level RoIAlign on TensorFlow.js tensors, computed on the host (core/det/roi-align-host.ts)
 * in both directions: bounded memory for any RoI size and count, and a gradient with respect to
 * every level (tfjs's gather gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type HostMap, type RoiAlignHostSpec, roiAlignBackward, roiAlignForward } from '../det/roi-align-host.js';

/**
 * RoI r of `rois` [R·4] (input coordinates) pooled from `features[levels[r]]` (NHWC maps of one
 * image, scale `scales[l]`) → [R, o, o, C] (NHWC), differentiable with respect to the features.
 */
export function roiAlignTfjs(features: readonly tf.Tensor[], rois: ArrayLike<number>, levels: ArrayLike<number>, scales: readonly number[], spec: RoiAlignHostSpec): tf.Tensor {
  const r = rois.length / 4;
  const o = spec.output;
  if (features.some((t) => t.shape[0] !== 1)) throw new Error(`roiAlign: features of one image expected, got batches of ${features.map((t) => t.shape[0]).join(', ')}`);
  const shapes = features.map((t) => ({ h: t.shape[1] as number, w: t.shape[2] as number, c: t.shape[3] as number }));
  const c = shapes[0].c;
  if (r === 0) return tf.zeros([0, o, o, c]);
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const maps: HostMap[] = shapes.map((s, l) => ({ ...s, data: levelUsed(levels, l) ? (inputs[l] as tf.Tensor).dataSync() : new Float32Array(0) }));
    const value = tf.tensor4d(roiAlignForward(maps, scales, rois, levels, spec), [r, o, o, c]);
    const gradFunc = (dy: tf.Tensor) => roiAlignBackward(shapes, scales, rois, levels, spec, dy.dataSync()).map((g, l) => tf.tensor4d(g, [1, shapes[l].h, shapes[l].w, c]));
    return { value, gradFunc };
  });
  return op(...features);
}

function levelUsed(levels: ArrayLike<number>, l: number): boolean {
  for (let i = 0; i < levels.length; i++) if (levels[i] === l) return true;
  return false;
}
