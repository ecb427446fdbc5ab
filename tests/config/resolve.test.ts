/** Config resolution: overrides, typos and bad values fail at parse time with their path. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { closeNames } from '../../src/config/resolve.js';
import { configNames, resolveConfig } from '../../configs/index.js';

describe('resolveConfig', () => {
  it('fills defaults and applies overrides with JSON values', () => {
    const c = resolveConfig('convnext-t_in1k', ['backbone.drop_path_rate=0.2', 'input.crop=192']);
    expect(c.type).toBe('classifier');
    if (c.type !== 'classifier') return;
    expect(c.backbone.drop_path_rate).toBe(0.2);
    expect(c.backbone.layer_scale_init).toBe(1e-6);
    expect(c.input.crop).toBe(192);
    expect(c.input.mean).toEqual([123.675, 116.28, 103.53]);
  });

  it('rejects a typo in a key, naming the path', () => {
    expect(() => resolveConfig('convnext-t_in1k', ['backbone.drop_pathrate=0.2'])).toThrow(/backbone: unknown key\(s\) 'drop_pathrate'/);
  });

  it('rejects a wrongly typed value, naming the path', () => {
    expect(() => resolveConfig('convnext-t_in1k', ['backbone.drop_path_rate=high'])).toThrow(/backbone\.drop_path_rate/);
  });

  it('rejects a variant that the version lacks', () => {
    expect(() => resolveConfig('convnext-t_in1k', ['backbone.variant="huge"'])).toThrow(/backbone\.variant: ConvNeXt V1 has no variant 'huge'/);
  });

  it('applies cross-component rules', () => {
    expect(() => resolveConfig('convnext-t_in1k', ['backbone.out_indices=[0,1]'])).toThrow(/backbone\.out_indices: a classifier uses the last stage only/);
    expect(() => resolveConfig('convnext-t_in1k', ['num_classes=10'])).toThrow(/class_names: 'imagenet1k' names 1000 classes/);
  });

  it('rejects an override without "="', () => {
    expect(() => resolveConfig('convnext-t_in1k', ['backbone.drop_path_rate'])).toThrow(UserError);
  });

  it('suggests close names for an unknown config', () => {
    expect(() => resolveConfig('convnext-t_in1')).toThrow(/unknown config 'convnext-t_in1' \(did you mean convnext-t_in1k/);
    expect(closeNames(configNames(), 'convnextv2-t')).toContain('convnextv2-t_in1k');
  });
});
