/**
 * Per-group NMS against torchvision's `_batched_nms_vanilla` (240 clustered boxes, 3 groups,
 * IoU 0.5; tools/fixtures/gen_det_units.py): the host implementation returns the same indices in
 * the same order; both engines keep the same boxes in the same order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ENGINES } from '../../../src/core/engine.js';
import type { HostTensor } from '../../../src/core/host-tensor.js';
import { batchedNmsHost } from '../../../src/core/det/nms.js';
import { readSafetensors } from '../../../src/io/safetensors.js';
import { FIXTURES } from '../../helpers.js';
import { runDet } from '../../heads/det-harness.js';

let ref: Map<string, HostTensor>;
beforeAll(async () => {
  ref = (await readSafetensors(join(FIXTURES, 'det', 'units.safetensors'))).tensors;
});

describe('batched NMS', () => {
  it('host implementation = torchvision', () => {
    const keep = batchedNmsHost(ref.get('nms.boxes')!.data, ref.get('nms.scores')!.data, ref.get('nms.groups')!.data, 0.5);
    expect(keep).toEqual(Array.from(ref.get('nms.keep')!.data));
  });

  it('maxOut keeps the best', () => {
    const keep = batchedNmsHost(ref.get('nms.boxes')!.data, ref.get('nms.scores')!.data, ref.get('nms.groups')!.data, 0.5, 10);
    expect(keep).toEqual(Array.from(ref.get('nms.keep')!.data).slice(0, 10));
  });

  it('hand-worked case: IoU exactly at the threshold is kept, above is suppressed', () => {
    // Boxes 0 and 1 overlap by half their area: IoU = 50 / 150 = 1/3. Box 2 is box 0 shifted by 1: IoU = 90/110.
    const boxes = Float32Array.from([0, 0, 10, 10, 5, 0, 15, 10, 1, 0, 11, 10]);
    expect(batchedNmsHost(boxes, [0.9, 0.8, 0.7], [0, 0, 0], 0.5)).toEqual([0, 1]);
    expect(batchedNmsHost(boxes, [0.9, 0.8, 0.7], [0, 0, 0], 0.9)).toEqual([0, 1, 2]);
    expect(batchedNmsHost(boxes, [0.9, 0.8, 0.7], [0, 0, 1], 0.5)).toEqual([0, 1, 2]);
    expect(batchedNmsHost(new Float32Array(0), [], [], 0.5)).toEqual([]);
    // IoU exactly 0.5 (inter 50, union 100) is not above 0.5: both kept; 0.49 suppresses.
    const half = Float32Array.from([0, 0, 10, 10, 0, 0, 10, 5]);
    expect(batchedNmsHost(half, [0.9, 0.8], [0, 0], 0.5)).toEqual([0, 1]);
    expect(batchedNmsHost(half, [0.9, 0.8], [0, 0], 0.49)).toEqual([0]);
  });

  it.each(ENGINES)('%s engine = torchvision', async (engine) => {
    const out = await runDet(engine, {
      boxes: ref.get('nms.boxes')!, scores: ref.get('nms.scores')!, groups: ref.get('nms.groups')!,
    }, (ops, x) => {
      const keep = ops.batchedNms(x.boxes, x.scores, x.groups, 3, 0.5, 1000);
      return { kept: ops.gather(x.scores, keep) };
    });
    const keep = Array.from(ref.get('nms.keep')!.data);
    const scores = ref.get('nms.scores')!.data;
    expect(Array.from(out.kept.data)).toEqual(keep.map((i) => scores[i]));
  });
});
