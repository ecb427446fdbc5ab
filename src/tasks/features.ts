/** Feature extraction from any model config's backbone: dense outputs (norm{i}) or raw stages. */
import { buildBackbone } from '../backbones/index.js';
import { type Backbone, backboneLevels } from '../core/components.js';
import type { FeatureSpec } from '../core/feature-spec.js';
import type { Network, OutputRanks } from '../core/model.js';
import type { Ops } from '../core/ops.js';
import { Scope } from '../core/params.js';
import { backbonePrefix, type ModelConfig } from '../config/models.js';

export interface FeatureModel {
  readonly backbone: Backbone;
  readonly specs: readonly FeatureSpec[];
  readonly network: Network;
}

/**
 * The backbone of `cfg` as a network whose outputs are named by level (p2…p5). With `out_indices`
 * the outputs pass through their `norm{i}`; without (classifiers), they are the four raw stage
 * outputs, as torchvision's `features` module gives them.
 */
export function featureModel(cfg: ModelConfig): FeatureModel {
  const prefix = backbonePrefix(cfg);
  const root = Scope.root();
  const backbone = buildBackbone(prefix ? root.child(prefix) : root, cfg.backbone);
  const levels = backboneLevels(backbone, cfg.backbone.out_indices !== undefined);
  const specs = levels.specs;
  const outputs: OutputRanks = Object.fromEntries(specs.map((s) => [s.name, 4 as const]));
  const network: Network = {
    registry: root.registry,
    inputChannels: cfg.backbone.in_channels,
    outputs,
    forward: <T>(ops: Ops<T>, x: T) => levels.forward(ops, x),
  };
  return { backbone, specs, network };
}
