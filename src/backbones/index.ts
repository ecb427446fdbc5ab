/**
 * The backbone registry. A backbone type is one file that exports its registry entry (schema,
 * build, emitted levels, checkpoint key rules) and one registration line here; configs then name
 * it by `type`. Models build their backbone through {@link buildBackbone}, under their scope.
 */
import type { Backbone, BackboneConfig } from '../core/components.js';
import { type FeatureSpec, imageSpec } from '../core/feature-spec.js';
import type { Scope } from '../core/params.js';
import { Registry } from '../core/registry.js';
import { convnextEntry } from './convnext-entry.js';

export const BACKBONES = new Registry<Backbone, void, BackboneConfig>('backbone');
BACKBONES.register(convnextEntry);

/** The backbone of `c` under `scope`, reading an image of `c.in_channels` channels. */
export function buildBackbone(scope: Scope, c: BackboneConfig): Backbone {
  return BACKBONES.build(scope, [imageSpec(c.in_channels)], c, undefined);
}

/** The levels the backbone of `c` emits (the dense outputs, else every stage), without building it. */
export function backboneSpecs(c: BackboneConfig): FeatureSpec[] {
  return BACKBONES.outSpecs([imageSpec(c.in_channels)], c);
}
