/**
 * Segmentor configs: every shipped one builds with head channels taken from the backbone's
 * FeatureSpecs and maps any input size to logits at that size (shape engine, so the XL model
 * costs nothing); parameter names are mmsegmentation's; config mistakes fail at parse time with
 * their path.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/resolve.js';
import { configNames, resolveConfig } from '../../../configs/index.js';
import { ShapeOps, type ShapeSym } from '../../../src/core/shape/ops.js';
import type { SegmentorConfig } from '../../../src/config/segmentor.js';
import { Segmentor } from '../../../src/tasks/segmentation/segmentor.js';
import { segmentationConfigs } from '../../../configs/segmentation.js';

function seg(name: string): SegmentorConfig {
  const cfg = resolveConfig(name);
  if (cfg.type !== 'segmentor') throw new Error(`${name} is not a segmentor`);
  return cfg;
}

const names = configNames().filter((n) => resolveConfig(n).type === 'segmentor');

describe('segmentor configs', () => {
  it('ships UPerNet T, S, B (512 and 640), L and XL for ADE20K plus the tiny test configs', () => {
    expect(names).toEqual(expect.arrayContaining([
      'upernet_convnext-t_512x512_160k_ade20k', 'upernet_convnext-s_512x512_160k_ade20k', 'upernet_convnext-b_512x512_160k_ade20k',
      'upernet_convnext-b_640x640_160k_ade20k', 'upernet_convnext-l_640x640_160k_ade20k', 'upernet_convnext-xl_640x640_160k_ade20k',
      'test_upernet_convnext-narrow_cls5',
    ]));
  });

  it.each(names)('%s: logits at the input size for 512×512 and 333×517', (name) => {
    const cfg = seg(name);
    const net = new Segmentor(cfg).network({ auxiliary: true });
    for (const [h, w] of [[512, 512], [333, 517]]) {
      const out = net.forward(new ShapeOps(), { shape: [1, 3, h, w] } satisfies ShapeSym);
      expect(out.logits.shape).toEqual([1, cfg.num_classes, h, w]);
      expect(out.aux_logits.shape).toEqual([1, cfg.num_classes, h, w]);
    }
  });

  it('takes head input channels from the backbone and keeps mmseg names (ConvNeXt-T)', () => {
    const m = new Segmentor(seg('upernet_convnext-t_512x512_160k_ade20k'));
    const shape = (n: string) => m.scope.registry.get(n)?.shape;
    expect(shape('decode_head.psp_modules.3.1.conv.weight')).toEqual([512, 768, 1, 1]);
    expect(shape('decode_head.bottleneck.conv.weight')).toEqual([512, 768 + 4 * 512, 3, 3]);
    expect(shape('decode_head.lateral_convs.0.conv.weight')).toEqual([512, 96, 1, 1]);
    expect(shape('decode_head.fpn_convs.2.conv.weight')).toEqual([512, 512, 3, 3]);
    expect(shape('decode_head.fpn_bottleneck.conv.weight')).toEqual([512, 2048, 3, 3]);
    expect(shape('decode_head.conv_seg.weight')).toEqual([150, 512, 1, 1]);
    expect(shape('auxiliary_head.convs.0.conv.weight')).toEqual([256, 384, 3, 3]);
    expect(shape('auxiliary_head.conv_seg.bias')).toEqual([150]);
    expect(shape('decode_head.fpn_bottleneck.conv.bias')).toBeUndefined();
    expect(shape('decode_head.fpn_bottleneck.bn.running_var')).toEqual([512]);
    expect(m.classNames[0]).toBe('wall');
    expect(m.palette[0]).toEqual([120, 120, 120]);
    // The official test settings.
    expect(m.config.test).toEqual({ mode: 'slide', crop_size: [512, 512], stride: [341, 341] });
    expect(m.config.input.test_scale).toEqual([2048, 512]);
    expect(m.config.backbone.drop_path_rate).toBe(0.4);
    expect(m.config.dataset.reduce_zero_label).toBe(true);
  });

  it.each([
    [{ backbone: { out_indices: [1, 2, 3] }, auxiliary_head: { type: 'fcn', in_index: 3 } }, /auxiliary_head\.in_index: level 3 does not exist: the backbone has 3 outputs/],
    [{ decode_head: { type: 'uper', in_index: [0, 4] } }, /decode_head\.in_index\.1: level 4 does not exist/],
    [{ decode_head: { type: 'uper', in_index: [2, 1] } }, /decode_head\.in_index\.1: in_index must increase/],
    [{ class_names: ['a', 'b'] }, /class_names: 2 names for 150 classes/],
    [{ num_classes: 19 }, /class_names: 'ade20k' names 150 classes but num_classes is 19/],
    [{ decode_head: { type: 'uper', in_channels: [96, 192, 384, 768] } }, /decode_head: unknown key\(s\) 'in_channels'/],
    [{ decode_head: { type: 'psp' } }, /decode_head\.type/],
    [{ test: { mode: 'slide', crop_size: [512, 512], stride: [600, 341] } }, /test\.stride: stride must not exceed crop_size/],
    [{ backbone: { out_indices: undefined } }, /backbone\.out_indices: a segmentor needs out_indices/],
  ])('rejects %j', (patch, message) => {
    const base = structuredClone(segmentationConfigs['upernet_convnext-t_512x512_160k_ade20k']) as Record<string, unknown>;
    for (const [k, v] of Object.entries(patch)) {
      base[k] = typeof v === 'object' && !Array.isArray(v) && k === 'backbone' ? { ...(base[k] as object), ...v } : v;
    }
    expect(() => validateConfig(base, 'patched')).toThrow(message);
  });
});
