/**
 * Pyramid pooling (PSPNet's PPM, as mmsegmentation's `PPM`): per pool scale s, adaptive average
 * pooling to s×s, a 1×1 ConvModule (`k.1.conv`, `k.1.bn`), bilinear upsampling back to the input
 * size (align_corners=False). Works for any input size (adaptive pooling bins as PyTorch).
 */
import { ConvModule } from '../../core/layers.js';
import type { Ops } from '../../core/ops.js';
import type { Scope } from '../../core/params.js';

export class PPM {
  private readonly branches: Array<{ scale: number; conv: ConvModule }>;

  /** `scope` is the module list (`decode_head.psp_modules`); branch k holds `k.1.*`. */
  constructor(scope: Scope, readonly poolScales: readonly number[], inChannels: number, channels: number) {
    this.branches = poolScales.map((scale, k) => ({ scale, conv: new ConvModule(scope.child(k).child(1), inChannels, channels, 1) }));
  }

  /** The upsampled branch outputs, in pool-scale order (the input itself is not included). */
  forward<T>(ops: Ops<T>, x: T): T[] {
    return this.branches.map(({ scale, conv }) => {
      const pooled = ops.adaptiveAvgPool(x, [scale, scale]);
      return ops.resize(conv.forward(ops, pooled), { like: x }, 'bilinear', false);
    });
  }
}
