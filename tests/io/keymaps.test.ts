import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadWeights, inspectWeights } from '../../src/io/load-weights.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { detectSource, mapToCanonical, unmappedKeys } from '../../src/io/keymaps/index.js';
import { UserError } from '../../src/core/errors.js';
import type { HostTensor } from '../../src/core/host-tensor.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'io');
const f = (name: string): string => join(FIX, name);

/**
 * Every layout file holds the same weights as its expected_*.safetensors, which the fixture script
 * wrote with canonical names (for torchvision MaskRCNN: background row moved last in fc_cls and
 * dropped from fc_reg / conv_logits, computed there from torchvision's own tensors).
 */
const cases: Array<[string, string, string, string | null]> = [
  ['layout_torchvision.pth', 'expected_v1', 'torchvision', null],
  ['layout_official_v1.pth', 'expected_v1', 'official', 'model'],
  ['layout_timm_v1.safetensors', 'expected_v1', 'timm', null],
  ['layout_mmcls_v1.pth', 'expected_v1', 'mmcls', 'state_dict'],
  ['layout_official_v2.pth', 'expected_v2', 'official', 'model'],
  ['layout_timm_v2.pth', 'expected_v2', 'timm', null],
  ['layout_mmdet.pth', 'expected_mmdet', 'mmdet', 'state_dict'],
  ['layout_mmdet_mmcls.pth', 'expected_mmdet', 'mmdet', 'state_dict'],
  ['layout_mmseg.pth', 'expected_mmseg', 'mmseg', 'state_dict'],
  ['layout_tv_maskrcnn.pth', 'expected_tv_maskrcnn', 'torchvision-maskrcnn', null],
];

describe.each(cases)('%s', (file, expectedFile, source, wrapper) => {
  it(`is detected as ${source} and maps to the canonical names, shapes and values`, async () => {
    const w = await loadWeights(f(file));
    expect(w.source).toBe(source);
    expect(w.wrapper).toBe(wrapper);
    expect(w.unmapped).toEqual([]);
    const e = await readSafetensors(f(`${expectedFile}.safetensors`));
    expect([...w.tensors.keys()].sort()).toEqual([...e.tensors.keys()].sort());
    for (const [k, t] of e.tensors) {
      expect(w.tensors.get(k)!.shape, k).toEqual(t.shape);
      expect(w.tensors.get(k)!.data, k).toEqual(t.data);
    }
  });
});

describe('key maps', () => {
  const t = (...shape: number[]): HostTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

  it('canonical shapes: V2 GRN [1,1,1,4C], layer scale [C], 1x1-conv MLP as Linear', async () => {
    const w = await loadWeights(f('layout_timm_v2.pth'));
    expect(w.tensors.get('stages.0.0.grn.gamma')!.shape).toEqual([1, 1, 1, 8]); // timm stores [4C] = [8]
    const v1 = await loadWeights(f('layout_torchvision.pth'));
    expect(v1.tensors.get('stages.2.1.gamma')!.shape).toEqual([4]); // torchvision layer_scale [4,1,1]
    const m = mapToCanonical(new Map([['stages.1.blocks.0.mlp.fc1.weight', t(12, 3, 1, 1)]]), 'timm');
    expect(m.tensors.get('stages.1.0.pwconv1.weight')!.shape).toEqual([12, 3]); // timm conv_mlp variant
  });

  it('reports keys that the layout does not map and leaves them out', () => {
    const m = mapToCanonical(new Map([
      ['stem.0.weight', t(2, 3, 4, 4)], ['norm_pre.weight', t(8)], ['head.fc.weight', t(5, 8)],
    ]), 'timm');
    expect([...m.tensors.keys()]).toEqual(['downsample_layers.0.0.weight', 'head.weight']);
    expect(m.unmapped).toEqual(['norm_pre.weight']);
    expect(unmappedKeys(['features.0.0.weight', 'classifier.1.weight'], 'torchvision')).toEqual(['classifier.1.weight']);
  });

  it('reads older torchvision MaskRCNN names (rpn.head.conv, mask_fcn1)', () => {
    const m = mapToCanonical(new Map([
      ['rpn.head.conv.weight', t(2, 2, 3, 3)], ['roi_heads.mask_head.mask_fcn1.weight', t(2, 2, 3, 3)],
      ['roi_heads.mask_head.mask_fcn4.bias', t(2)], ['backbone.fpn.inner_blocks.3.weight', t(2, 5, 1, 1)],
    ]), 'torchvision-maskrcnn');
    expect([...m.tensors.keys()]).toEqual(['rpn_head.rpn_conv.weight', 'roi_head.mask_head.convs.0.conv.weight',
      'roi_head.mask_head.convs.3.conv.bias', 'neck.lateral_convs.3.conv.weight']);
  });

  it('torchvision MaskRCNN class rows: background first -> last, background boxes/masks dropped', () => {
    // 3 classes incl. background (row 0); row r holds the value r in every column
    const rows = (n: number, per: number): HostTensor => ({ shape: [n, per], data: Float32Array.from({ length: n * per }, (_, i) => Math.floor(i / per)) });
    const m = mapToCanonical(new Map([
      ['roi_heads.box_predictor.cls_score.weight', rows(3, 2)],
      ['roi_heads.box_predictor.bbox_pred.weight', rows(12, 1)],
      ['roi_heads.mask_predictor.mask_fcn_logits.bias', { shape: [3], data: Float32Array.from([0, 1, 2]) }],
    ]), 'torchvision-maskrcnn');
    expect(Array.from(m.tensors.get('roi_head.bbox_head.fc_cls.weight')!.data)).toEqual([1, 1, 2, 2, 0, 0]);
    expect(Array.from(m.tensors.get('roi_head.bbox_head.fc_reg.weight')!.data)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(m.tensors.get('roi_head.mask_head.conv_logits.bias')!.data)).toEqual([1, 2]);
  });

  it('detects layouts from keys alone', () => {
    expect(detectSource(['downsample_layers.0.0.weight', 'stages.0.0.dwconv.weight', 'head.weight'])).toBe('official');
    expect(detectSource(['stem.0.weight', 'stages.0.blocks.0.conv_dw.weight'])).toBe('timm');
    expect(detectSource(['features.0.0.weight', 'features.1.0.block.0.weight', 'classifier.2.weight'])).toBe('torchvision');
    expect(detectSource(['backbone.stages.0.0.dwconv.weight', 'decode_head.conv_seg.weight'])).toBe('mmseg');
    expect(detectSource(['backbone.stages.0.0.dwconv.weight', 'roi_head.bbox_head.fc_cls.weight'])).toBe('mmdet');
    expect(detectSource(['backbone.stages.0.0.depthwise_conv.weight', 'backbone.norm3.weight', 'head.fc.weight'])).toBe('mmcls');
    expect(detectSource(['backbone.body.0.0.weight', 'rpn.head.cls_logits.weight'])).toBe('torchvision-maskrcnn');
    expect(detectSource(['encoder.layer.0.weight', 'decoder.weight'])).toBeNull();
  });

  it('a forced layout that does not fit, and two keys landing on one name, are user errors', async () => {
    const e = (await loadWeights(f('layout_torchvision.pth'), { from: 'timm' }).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/layout_torchvision\.pth: no key matches the timm layout/);
    const clash = (): unknown => mapToCanonical(new Map([
      ['backbone.stages.0.0.dwconv.weight', t(1)], ['backbone.stages.0.0.depthwise_conv.weight', t(1)],
    ]), 'mmdet', 'x.pth');
    expect(clash).toThrow(/x\.pth: keys 'backbone\.stages\.0\.0\.dwconv\.weight' and 'backbone\.stages\.0\.0\.depthwise_conv\.weight' both map to 'backbone\.stages\.0\.0\.dwconv\.weight'/);
  });

  it('inspect reports format, layout, wrapper and parameter count without reading data', async () => {
    const info = await inspectWeights(f('layout_mmseg.pth'));
    expect(info).toMatchObject({ format: 'legacy', source: 'mmseg', wrapper: 'state_dict', unmapped: [] });
    expect(info.topKeys).toEqual(['meta', 'state_dict']);
    const w = await loadWeights(f('layout_mmseg.pth'));
    expect(info.parameterCount).toBe([...w.tensors.values()].reduce((n, x) => n + x.data.length, 0));
    expect(info.tensors.find((x) => x.name === 'decode_head.bottleneck.bn.num_batches_tracked')!.dtype).toBe('int64');
  });
});
