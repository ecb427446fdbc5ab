/**
 * Box decoding against references (tools/fixtures/gen_det_units.py): mmdetection's delta2bbox
 * (stds 0.1/0.1/0.2/0.2 and the RPN's 1s, dw/dh clamped to ±|log(16/1000)|, clipped to 75×101)
 * and torchvision's BoxCoder((10, 10, 5, 5)).decode_single + clip_boxes_to_image. Four rows have
 * |dw|, |dh| far beyond the clamp. Tolerance 1e-4 px.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { type BoxCoderOptions, decodeBoxes, MMDET_WH_CLIP, TORCHVISION_WH_CLIP } from '../../../src/core/det/coder.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { FIXTURES } from '../../helpers.js';
import { maxDiff, runDet } from '../../heads/det-harness.js';

let ref: Map<string, HostTensor>;
beforeAll(async () => {
  ref = (await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'))).tensors;
});

const CODERS: Array<{ name: string; coder: BoxCoderOptions }> = [
  { name: 'mmdet', coder: { type: 'mmdet', means: [0, 0, 0, 0], stds: [0.1, 0.1, 0.2, 0.2], clip: MMDET_WH_CLIP } },
  { name: 'mmdet_rpn', coder: { type: 'mmdet', means: [0, 0, 0, 0], stds: [1, 1, 1, 1], clip: MMDET_WH_CLIP } },
  { name: 'torchvision', coder: { type: 'torchvision', weights: [10, 10, 5, 5], clip: TORCHVISION_WH_CLIP } },
];

describe.each(ENGINES)('box coders on %s', (engine) => {
  it.each(CODERS)('$name', async ({ name, coder }) => {
    const out = await runDet(engine, {
      deltas: ref.get('coder.deltas')!,
      rois: ref.get('coder.rois')!,
      size: { shape: [2], data: Float32Array.from([75, 101]) },
    }, (ops, x) => ({ boxes: decodeBoxes(ops, x.deltas, x.rois, coder, x.size) }));
    const err = maxDiff(out.boxes.data, ref.get(`coder.${name}`)!.data);
    console.log(`${engine} ${name}: max abs err ${err.toExponential(2)} px`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });
});
