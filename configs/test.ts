/**
 * Tiny configs for tests and the bundled demo model: real ConvNeXt structure, small widths.
 * They match the golden fixtures written by tools/fixtures/gen_backbone.py.
 */
import type { ModelConfigInput } from '../src/config/models.js';

export const testConfigs: Record<string, ModelConfigInput> = {
  /** ConvNeXt-T depths (3, 3, 9, 3) with widths 8…64, 10 classes (torchvision fixture). */
  'test_convnext-t-narrow_cls10': {
    type: 'classifier',
    backbone: { type: 'convnext', version: 1, depths: [3, 3, 9, 3], dims: [8, 16, 32, 64] },
    num_classes: 10,
    input: { resize: 64, crop: 64 },
  },
  /** ConvNeXt V2 (GRN), depths (2, 2, 6, 2), widths 8…32, 7 classes. */
  'test_convnextv2-narrow_cls7': {
    type: 'classifier',
    backbone: { type: 'convnext', version: 2, depths: [2, 2, 6, 2], dims: [8, 16, 24, 32] },
    num_classes: 7,
    input: { resize: 64, crop: 64 },
  },
  /** Dense ConvNeXt V2 backbone, outputs p2…p5 through norm0…norm3 (official detection layout). */
  'test_convnextv2-narrow_dense': {
    type: 'features',
    backbone: { type: 'convnext', version: 2, depths: [2, 2, 6, 2], dims: [8, 16, 24, 32], out_indices: [0, 1, 2, 3] },
  },
  /** Dense ConvNeXt V1 backbone, outputs p3…p5 (out_indices 1, 2, 3). */
  'test_convnext-narrow_dense': {
    type: 'features',
    backbone: { type: 'convnext', version: 1, depths: [2, 2, 6, 2], dims: [8, 16, 24, 32], out_indices: [1, 2, 3] },
  },
};
