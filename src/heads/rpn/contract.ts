/**
 * The contract of a detector's region proposal head: raw objectness and deltas per pyramid level,
 * its anchors and coder (what training builds its targets with), test-time proposals, and its
 * training loss on the same raw outputs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AnchorGridSpec, DetOps } from '../../core/det-ops.js';
import type { BoxCoderOptions } from '../../core/det/coder.js';
import type { Ops } from '../../core/ops.js';
import type { BoxLossSpec } from '../../core/tfjs/losses/index.js';
import type { ProposalOptions } from './proposals.js';

/** One level's RPN targets for a batch: per image and anchor, objectness target and weight, deltas and their weights. */
export interface RpnLevelTargets {
  labels: Float32Array;
  labelWeights: Float32Array;
  deltas: Float32Array;
  deltaWeights: Float32Array;
}

export interface RpnHead {
  /** The anchor grid of each pyramid level it reads, in stride order. */
  readonly anchorGrids: readonly AnchorGridSpec[];
  /** The coder of its deltas (decoding and training targets). */
  readonly coder: BoxCoderOptions;
  /** Test-time proposal settings (coder included). */
  readonly proposalOptions: ProposalOptions;
  /** Objectness logits [N, A, H, W] and deltas [N, 4A, H, W] of one level. */
  forward<T>(ops: Ops<T>, x: T): { cls: T; reg: T };
  /** Proposals [P, 4] and their scores [P] of one image; `imageSize` [2] is its valid height and width. */
  proposals<T>(ops: DetOps<T>, pyramid: readonly T[], image: T, imageSize: T): { boxes: T; scores: T };
  /** Training loss (tfjs engine) of the raw outputs of each level for a batch of `n` images. */
  loss(raw: ReadonlyArray<{ cls: tf.Tensor; reg: tf.Tensor }>, targets: readonly RpnLevelTargets[], n: number, avgFactor: number, o: { clsWeight: number; box: BoxLossSpec }): { loss_rpn_cls: tf.Tensor; loss_rpn_bbox: tf.Tensor };
}
