/**
 * ConvNeXt V1 and V2 (Liu et al. 2022; Woo et al. 2023), parameter names as the official
 * repositories: `downsample_layers.*`, `stages.i.j.*`, classification `norm`/`head`, dense
 * outputs `norm{i}` (channels-first LayerNorm per output, as the official detection backbone).
 */
import type { Backbone } from '../core/components.js';
import { type FeatureSpec, levelName, validateFeatureSpecs } from '../core/feature-spec.js';
import { Conv2d, LayerNorm, Linear } from '../core/layers.js';
import type { Ops } from '../core/ops.js';
import type { ParamRef, Scope } from '../core/params.js';

export interface ConvNeXtOptions {
  version: 1 | 2;
  depths: readonly number[];
  dims: readonly number[];
  inChannels?: number;
  /** Stochastic depth, linearly increasing over blocks up to this rate (training only). */
  dropPathRate?: number;
  /** V1 layer scale initial value; 0 disables layer scale. Ignored by V2 (which has GRN). */
  layerScaleInit?: number;
  /** Stages whose outputs are returned as dense features, each with its own `norm{i}`. */
  outIndices?: readonly number[];
  /** Stages frozen in training (see {@link convnextFrozen}); default -1, none. */
  frozenStages?: number;
}

/**
 * Whether the ConvNeXt parameter `name` (relative to the backbone) is frozen by `frozenStages`:
 * k ≥ 0 freezes the stem (downsample_layers.0) and, for every stage s < k, downsample_layers.s,
 * stages.s and the dense output norm{s} (as mmdetection's Swin freezes the output norm of frozen stages).
 */
export function convnextFrozen(name: string, frozenStages: number): boolean {
  if (frozenStages < 0) return false;
  const m = /^(downsample_layers|stages)\.(\d+)\./.exec(name);
  if (m) {
    const s = Number(m[2]);
    return s === 0 && m[1] === 'downsample_layers' ? true : s < frozenStages;
  }
  const n = /^norm(\d)\./.exec(name);
  return n !== null && Number(n[1]) < frozenStages;
}

const LN_EPS = 1e-6;

/** Global response normalisation (ConvNeXt V2): `grn.gamma`, `grn.beta` of shape [1, 1, 1, C]. */
class GRN {
  readonly gamma: ParamRef;
  readonly beta: ParamRef;

  constructor(scope: Scope, channels: number) {
    this.gamma = scope.param('gamma', [1, 1, 1, channels], { kind: 'zeros' }, 'norm');
    this.beta = scope.param('beta', [1, 1, 1, channels], { kind: 'zeros' }, 'norm');
  }

  forward<T>(ops: Ops<T>, x: T): T {
    const gx = ops.sqrt(ops.reduceSpatial(ops.square(x), 'sum'));
    const nx = ops.div(gx, ops.addScalar(ops.reduceChannels(gx, 'mean'), 1e-6));
    const y = ops.shift(ops.scale(ops.mul(x, nx), this.gamma), this.beta);
    return ops.add(y, x);
  }
}

/** One ConvNeXt block: dwconv 7×7 → LN → pwconv ×4 → GELU → (GRN) → pwconv → (γ) → residual. */
class Block {
  private readonly dwconv: Conv2d;
  private readonly norm: LayerNorm;
  private readonly pwconv1: Linear;
  private readonly grn: GRN | null;
  private readonly pwconv2: Linear;
  private readonly gamma: ParamRef | null;

  constructor(scope: Scope, dim: number, version: 1 | 2, layerScaleInit: number, private readonly dropPath: number) {
    this.dwconv = new Conv2d(scope.child('dwconv'), dim, dim, 7, { padding: 3, groups: dim, std: 0.02 });
    this.norm = new LayerNorm(scope.child('norm'), dim, LN_EPS);
    this.pwconv1 = new Linear(scope.child('pwconv1'), dim, 4 * dim, { std: 0.02 });
    this.grn = version === 2 ? new GRN(scope.child('grn'), 4 * dim) : null;
    this.pwconv2 = new Linear(scope.child('pwconv2'), 4 * dim, dim, { std: 0.02 });
    this.gamma = version === 1 && layerScaleInit > 0
      ? scope.param('gamma', [dim], { kind: 'const', value: layerScaleInit }, 'layerScale')
      : null;
  }

  forward<T>(ops: Ops<T>, x: T): T {
    let y = this.dwconv.forward(ops, x);
    y = this.norm.forward(ops, y);
    y = ops.gelu(this.pwconv1.forward(ops, y));
    if (this.grn) y = this.grn.forward(ops, y);
    y = this.pwconv2.forward(ops, y);
    if (this.gamma) y = ops.scale(y, this.gamma);
    return ops.add(x, ops.dropPath(y, this.dropPath));
  }
}

/** The ConvNeXt trunk: stem, three downsampling layers, four stages. */
export class ConvNeXt implements Backbone {
  /** Raw stage outputs (before any output norm), one spec per stage. */
  readonly stageSpecs: readonly FeatureSpec[];
  /** Dense outputs (the `outIndices` stages), in increasing stride. */
  readonly featureSpecs: readonly FeatureSpec[];
  readonly dims: readonly number[];
  private readonly downsample: Array<{ conv: Conv2d; norm: LayerNorm; normFirst: boolean }> = [];
  private readonly stages: Block[][] = [];
  private readonly outNorms = new Map<number, LayerNorm>();
  readonly outIndices: readonly number[];
  private readonly frozenStages: number;

  constructor(scope: Scope, opts: ConvNeXtOptions) {
    this.frozenStages = opts.frozenStages ?? -1;
    const { depths, dims, version } = opts;
    if (depths.length !== 4 || dims.length !== 4) throw new Error('convnext: depths and dims need four stages');
    this.dims = dims;
    const inC = opts.inChannels ?? 3;
    const ds = scope.child('downsample_layers');
    // Stem: conv 4×4 stride 4, then channels-first LayerNorm.
    this.downsample.push({
      conv: new Conv2d(ds.child(0).child(0), inC, dims[0], 4, { stride: 4, std: 0.02 }),
      norm: new LayerNorm(ds.child(0).child(1), dims[0], LN_EPS),
      normFirst: false,
    });
    for (let i = 1; i < 4; i++) {
      this.downsample.push({
        norm: new LayerNorm(ds.child(i).child(0), dims[i - 1], LN_EPS),
        conv: new Conv2d(ds.child(i).child(1), dims[i - 1], dims[i], 2, { stride: 2, std: 0.02 }),
        normFirst: true,
      });
    }
    const total = depths.reduce((a, b) => a + b, 0);
    const rate = opts.dropPathRate ?? 0;
    let k = 0;
    const st = scope.child('stages');
    for (let i = 0; i < 4; i++) {
      const blocks: Block[] = [];
      for (let j = 0; j < depths[i]; j++, k++) {
        const dp = total > 1 ? (rate * k) / (total - 1) : 0;
        blocks.push(new Block(st.child(i).child(j), dims[i], version, opts.layerScaleInit ?? 1e-6, dp));
      }
      this.stages.push(blocks);
    }
    this.stageSpecs = validateFeatureSpecs('convnext', dims.map((c, i) => ({ name: levelName(4 << i), channels: c, stride: 4 << i })));
    this.outIndices = [...(opts.outIndices ?? [])].sort((a, b) => a - b);
    for (const i of this.outIndices) {
      if (!(i >= 0 && i < 4)) throw new Error(`convnext: out index ${i} outside 0..3`);
      this.outNorms.set(i, new LayerNorm(scope.child(`norm${i}`), dims[i], LN_EPS));
    }
    this.featureSpecs = this.outIndices.map((i) => this.stageSpecs[i]);
  }

  isFrozen(name: string): boolean {
    return convnextFrozen(name, this.frozenStages);
  }

  /** Runs the trunk; returns the four raw stage outputs. */
  stagesForward<T>(ops: Ops<T>, x: T): T[] {
    const outs: T[] = [];
    for (let i = 0; i < 4; i++) {
      const d = this.downsample[i];
      x = d.normFirst ? d.conv.forward(ops, d.norm.forward(ops, x)) : d.norm.forward(ops, d.conv.forward(ops, x));
      for (const b of this.stages[i]) x = ops.scoped(() => b.forward(ops, x));
      outs.push(x);
    }
    return outs;
  }

  /** Dense outputs: each `outIndices` stage through its `norm{i}`, keyed by level name. */
  forward<T>(ops: Ops<T>, x: T): Record<string, T> {
    const stages = this.stagesForward(ops, x);
    const out: Record<string, T> = {};
    for (const i of this.outIndices) out[this.stageSpecs[i].name] = this.outNorms.get(i)!.forward(ops, stages[i]);
    return out;
  }
}

/** Classification head: global average pool → LayerNorm (`norm`) → Linear (`head`). */
export class ClassifierHead {
  private readonly norm: LayerNorm;
  private readonly head: Linear;

  constructor(scope: Scope, inChannels: number, numClasses: number) {
    this.norm = new LayerNorm(scope.child('norm'), inChannels, LN_EPS);
    this.head = new Linear(scope.child('head'), inChannels, numClasses, { std: 0.02 });
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return this.head.forward(ops, this.norm.forward(ops, ops.globalAvgPool(x)));
  }
}
