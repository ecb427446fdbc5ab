/** The classifier model: a backbone's trunk + classification head on its last stage. */
import { ClassifierHead } from '../../backbones/convnext.js';
import { buildBackbone } from '../../backbones/index.js';
import type { Backbone } from '../../core/components.js';
import type { Network } from '../../core/model.js';
import type { Ops } from '../../core/ops.js';
import { Scope } from '../../core/params.js';
import type { ClassifierConfig } from '../../config/classifier.js';
import { IMAGENET1K_CLASSES } from '../../config/imagenet-classes.js';

/** An image classifier built from a validated config; `network()` gives its logits network. */
export class Classifier {
  readonly backbone: Backbone;
  readonly head: ClassifierHead;
  readonly scope = Scope.root();
  readonly classNames: readonly string[];

  constructor(readonly config: ClassifierConfig) {
    this.backbone = buildBackbone(this.scope, config.backbone);
    this.head = new ClassifierHead(this.scope, this.backbone.stageSpecs[this.backbone.stageSpecs.length - 1].channels, config.num_classes);
    const names = config.class_names;
    this.classNames = names === 'imagenet1k' ? IMAGENET1K_CLASSES
      : names ?? Array.from({ length: config.num_classes }, (_, i) => `class_${i}`);
  }

  /** Network with one output `logits` [N, num_classes]. */
  network(): Network {
    return {
      registry: this.scope.registry,
      inputChannels: this.config.backbone.in_channels,
      outputs: { logits: 2 },
      forward: <T>(ops: Ops<T>, x: T) => {
        const stages = this.backbone.stagesForward(ops, x);
        return { logits: this.head.forward(ops, stages[stages.length - 1]) };
      },
    };
  }
}
