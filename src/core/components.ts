/**
 * The contracts between component kinds. Each kind reads the feature spec of the one upstream and
 * declares its own, so no config repeats a channel count or a stride.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureSpec } from './feature-spec.js';
import type { Ops } from './ops.js';

/** A backbone: an image [N, 3, H, W] → feature maps keyed by level name, as `featureSpecs` declares. */
export interface Backbone {
  readonly featureSpecs: readonly FeatureSpec[];
  forward<T>(ops: Ops<T>, x: T): Record<string, T>;
}

/**
 * A neck: the upstream levels (keyed by name) → its output levels in stride order, as `outSpecs`
 * declares. `inSpecs` are the upstream levels it reads; RoI heads pool from the outputs at those strides.
 */
export interface Neck {
  readonly inSpecs: readonly FeatureSpec[];
  readonly outSpecs: readonly FeatureSpec[];
  forward<T>(ops: Ops<T>, feats: Record<string, T>): T[];
}

/** What a model gives a decode head besides the upstream spec. */
export interface DecodeHeadContext {
  numClasses: number;
}

/**
 * A segmentation decode head (decode or auxiliary): the upstream levels keyed by name → class
 * logits [N, classes, h, w] at the resolution of the finest level it reads (`inSpecs`).
 */
export interface DecodeHead {
  readonly inSpecs: readonly FeatureSpec[];
  forward<T>(ops: Ops<T>, feats: Readonly<Record<string, T>>): T;
  /** Training loss (tfjs engine) of this head's logits against labels [N, H, W] (int32). */
  loss(ops: Ops<tf.Tensor>, logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number): tf.Tensor;
}
