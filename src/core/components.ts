/**
 * The contracts between component kinds. Each kind reads the feature spec of the one upstream and
 * declares its own, so no config repeats a channel count or a stride.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureSpec } from './feature-spec.js';
import type { Ops } from './ops.js';

/**
 * What every backbone config has besides its own options: the image channels, the stages emitted
 * as dense features (each through its own output norm; unset: none, as a classifier's trunk) and
 * the stages frozen in training (-1: none; 0: the stem; k: the stem and stages < k).
 */
export interface BackboneConfig {
  readonly type: string;
  readonly in_channels: number;
  readonly out_indices?: readonly number[];
  readonly frozen_stages: number;
}

/**
 * A backbone: an image [N, C, H, W] → feature maps. `forward` gives the dense outputs keyed by
 * level name, as `featureSpecs` declares; `stagesForward` the raw output of every stage
 * (`stageSpecs`), which classifiers and raw feature extraction read.
 */
export interface Backbone {
  readonly featureSpecs: readonly FeatureSpec[];
  readonly stageSpecs: readonly FeatureSpec[];
  forward<T>(ops: Ops<T>, x: T): Record<string, T>;
  stagesForward<T>(ops: Ops<T>, x: T): T[];
  /** Whether the parameter `name` (relative to the backbone's scope) is frozen by its config. */
  isFrozen(name: string): boolean;
}

/**
 * Which model parameters the backbone freezes: `name` is a model parameter name, the backbone's
 * parameters sit under `prefix` ('' for a classifier, 'backbone' in dense models).
 */
export function backboneFrozen(b: Backbone, prefix: string): (name: string) => boolean {
  const head = prefix ? `${prefix}.` : '';
  return (name) => name.startsWith(head) && b.isFrozen(name.slice(head.length));
}

/**
 * The levels a model reads from a backbone: the dense outputs when its config has `out_indices`,
 * else the raw stages; with the forward that returns them keyed by level name.
 */
export function backboneLevels(b: Backbone, dense: boolean): { specs: readonly FeatureSpec[]; forward<T>(ops: Ops<T>, x: T): Record<string, T> } {
  if (dense) return { specs: b.featureSpecs, forward: (ops, x) => b.forward(ops, x) };
  return {
    specs: b.stageSpecs,
    forward: (ops, x) => {
      const st = b.stagesForward(ops, x);
      return Object.fromEntries(b.stageSpecs.map((s, i) => [s.name, st[i]]));
    },
  };
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
