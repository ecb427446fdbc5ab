/**
 * A third engine that computes nothing: it propagates NCHW shapes through model code, checking
 * channel counts against parameter shapes. Used to validate every config's outputs against its
 * declared FeatureSpecs without paying for a forward pass (or random weights) of big variants.
 */
import type {
  BatchNormParams, ConvOptions, ConvTransposeOptions, Ops, PoolOptions, ReduceKind, ResizeTarget,
} from '../ops.js';
import { pair, poolStride } from '../ops.js';
import type { ParamRef } from '../params.js';
import { shapeStr } from '../host-tensor.js';

/** A shape: [N, C, H, W] for feature maps, [N, C] for vectors. */
export interface ShapeSym {
  readonly shape: readonly number[];
}

function channels(p: ParamRef): number {
  return p.shape.reduce((a, b) => a * b, 1);
}

export class ShapeOps implements Ops<ShapeSym> {
  readonly engine = 'shape' as const;
  readonly training = false;

  private expectC(x: ShapeSym, c: number, what: string): void {
    if (x.shape[1] !== c) throw new Error(`${what}: input ${shapeStr(x.shape)} has ${x.shape[1]} channels, expected ${c}`);
  }

  private conv(x: ShapeSym, outC: number, k: [number, number], o: ConvOptions): ShapeSym {
    const [sh, sw] = pair(o.stride, 1);
    const [ph, pw] = pair(o.padding, 0);
    const [dh, dw] = pair(o.dilation, 1);
    const h = Math.floor((x.shape[2] + 2 * ph - dh * (k[0] - 1) - 1) / sh) + 1;
    const w = Math.floor((x.shape[3] + 2 * pw - dw * (k[1] - 1) - 1) / sw) + 1;
    if (h <= 0 || w <= 0) throw new Error(`conv: input ${shapeStr(x.shape)} too small for kernel ${k} stride ${sh}`);
    return { shape: [x.shape[0], outC, h, w] };
  }

  scoped(fn: () => ShapeSym): ShapeSym {
    return fn();
  }

  conv2d(x: ShapeSym, weight: ParamRef, _b: ParamRef | null, opts: ConvOptions = {}): ShapeSym {
    this.expectC(x, weight.shape[1] * (opts.groups ?? 1), weight.name);
    return this.conv(x, weight.shape[0], [weight.shape[2], weight.shape[3]], opts);
  }

  convTranspose2d(x: ShapeSym, weight: ParamRef, _b: ParamRef | null, opts: ConvTransposeOptions = {}): ShapeSym {
    this.expectC(x, weight.shape[0], weight.name);
    const [sh, sw] = pair(opts.stride, 1);
    const [ph, pw] = pair(opts.padding, 0);
    return { shape: [x.shape[0], weight.shape[1], (x.shape[2] - 1) * sh - 2 * ph + weight.shape[2], (x.shape[3] - 1) * sw - 2 * pw + weight.shape[3]] };
  }

  linear(x: ShapeSym, weight: ParamRef): ShapeSym {
    this.expectC(x, weight.shape[1], weight.name);
    return { shape: [x.shape[0], weight.shape[0], ...x.shape.slice(2)] };
  }

  layerNorm(x: ShapeSym, weight: ParamRef): ShapeSym {
    this.expectC(x, channels(weight), weight.name);
    return x;
  }

  batchNorm(x: ShapeSym, p: BatchNormParams): ShapeSym {
    this.expectC(x, channels(p.weight), p.weight.name);
    return x;
  }

  gelu(x: ShapeSym): ShapeSym { return x; }
  relu(x: ShapeSym): ShapeSym { return x; }
  sigmoid(x: ShapeSym): ShapeSym { return x; }
  softmax(x: ShapeSym): ShapeSym { return x; }
  sqrt(x: ShapeSym): ShapeSym { return x; }
  square(x: ShapeSym): ShapeSym { return x; }
  addScalar(x: ShapeSym): ShapeSym { return x; }
  mulScalar(x: ShapeSym): ShapeSym { return x; }
  dropout(x: ShapeSym): ShapeSym { return x; }
  dropPath(x: ShapeSym): ShapeSym { return x; }

  private broadcast(a: ShapeSym, b: ShapeSym): ShapeSym {
    if (a.shape.length !== b.shape.length) throw new Error(`broadcast: ${shapeStr(a.shape)} vs ${shapeStr(b.shape)}`);
    return {
      shape: a.shape.map((d, i) => {
        const e = b.shape[i];
        if (d !== e && d !== 1 && e !== 1) throw new Error(`broadcast: ${shapeStr(a.shape)} vs ${shapeStr(b.shape)}`);
        return Math.max(d, e);
      }),
    };
  }

  add(a: ShapeSym, b: ShapeSym): ShapeSym { return this.broadcast(a, b); }
  sub(a: ShapeSym, b: ShapeSym): ShapeSym { return this.broadcast(a, b); }
  mul(a: ShapeSym, b: ShapeSym): ShapeSym { return this.broadcast(a, b); }
  div(a: ShapeSym, b: ShapeSym): ShapeSym { return this.broadcast(a, b); }

  scale(x: ShapeSym, p: ParamRef): ShapeSym {
    this.expectC(x, channels(p), p.name);
    return x;
  }

  shift(x: ShapeSym, p: ParamRef): ShapeSym {
    this.expectC(x, channels(p), p.name);
    return x;
  }

  reduceSpatial(x: ShapeSym, _k: ReduceKind): ShapeSym {
    return { shape: [x.shape[0], x.shape[1], 1, 1] };
  }

  reduceChannels(x: ShapeSym, _k: ReduceKind): ShapeSym {
    return { shape: [x.shape[0], 1, ...x.shape.slice(2)] };
  }

  globalAvgPool(x: ShapeSym): ShapeSym {
    return { shape: [x.shape[0], x.shape[1]] };
  }

  concat(xs: readonly ShapeSym[]): ShapeSym {
    const [first] = xs;
    for (const x of xs) {
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== 1 && d !== first.shape[i])) {
        throw new Error(`concat: ${xs.map((s) => shapeStr(s.shape)).join(' + ')}`);
      }
    }
    return { shape: [first.shape[0], xs.reduce((a, x) => a + x.shape[1], 0), ...first.shape.slice(2)] };
  }

  resize(x: ShapeSym, target: ResizeTarget<ShapeSym>): ShapeSym {
    let hw: readonly number[];
    if ('size' in target) hw = target.size;
    else if ('scale' in target) hw = [Math.floor(x.shape[2] * target.scale), Math.floor(x.shape[3] * target.scale)];
    else hw = target.like.shape.slice(2);
    return { shape: [x.shape[0], x.shape[1], hw[0], hw[1]] };
  }

  private pool(x: ShapeSym, o: PoolOptions): ShapeSym {
    const k = pair(o.kernel, 1);
    const [sh, sw] = poolStride(o);
    const [ph, pw] = pair(o.padding, 0);
    const round = o.ceilMode ? Math.ceil : Math.floor;
    return { shape: [x.shape[0], x.shape[1], round((x.shape[2] + 2 * ph - k[0]) / sh) + 1, round((x.shape[3] + 2 * pw - k[1]) / sw) + 1] };
  }

  maxPool(x: ShapeSym, o: PoolOptions): ShapeSym { return this.pool(x, o); }
  avgPool(x: ShapeSym, o: PoolOptions): ShapeSym { return this.pool(x, o); }

  adaptiveAvgPool(x: ShapeSym, size: readonly [number, number]): ShapeSym {
    return { shape: [x.shape[0], x.shape[1], size[0], size[1]] };
  }
}
