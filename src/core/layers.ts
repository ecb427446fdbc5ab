/**
 * Small building blocks shared by backbones, necks and heads. Each declares its parameters in a
 * scope at construction and applies them through the op interface in `forward`.
 */
import type { ConvOptions, Ops, BatchNormParams } from './ops.js';
import { pair } from './ops.js';
import type { ParamRef, Scope } from './params.js';

export interface Conv2dOptions extends ConvOptions {
  bias?: boolean;
  /** Weight init; PyTorch's default when omitted. */
  std?: number;
}

/** A 2-D convolution (`name.weight` [out, in/groups, k, k], optional `name.bias`). */
export class Conv2d {
  readonly weight: ParamRef;
  readonly bias: ParamRef | null;
  readonly opts: ConvOptions;

  constructor(scope: Scope, inC: number, outC: number, kernel: number | [number, number], opts: Conv2dOptions = {}) {
    const [kh, kw] = pair(kernel, 1);
    const groups = opts.groups ?? 1;
    if (inC % groups !== 0 || outC % groups !== 0) {
      throw new Error(`${scope.prefix}: channels ${inC}->${outC} not divisible by groups ${groups}`);
    }
    const fanIn = (inC / groups) * kh * kw;
    this.weight = scope.param(
      'weight',
      [outC, inC / groups, kh, kw],
      opts.std !== undefined ? { kind: 'truncNormal', std: opts.std } : { kind: 'torchDefault', fanIn, bias: false },
    );
    this.bias = opts.bias === false
      ? null
      : scope.param('bias', [outC], opts.std !== undefined ? { kind: 'zeros' } : { kind: 'torchDefault', fanIn, bias: true }, 'bias');
    this.opts = { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups };
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return ops.conv2d(x, this.weight, this.bias, this.opts);
  }
}

/** A linear layer over channels (`name.weight` [out, in], `name.bias` [out]). */
export class Linear {
  readonly weight: ParamRef;
  readonly bias: ParamRef | null;

  constructor(scope: Scope, inC: number, outC: number, opts: { bias?: boolean; std?: number } = {}) {
    this.weight = scope.param(
      'weight',
      [outC, inC],
      opts.std !== undefined ? { kind: 'truncNormal', std: opts.std } : { kind: 'torchDefault', fanIn: inC, bias: false },
    );
    this.bias = opts.bias === false
      ? null
      : scope.param('bias', [outC], opts.std !== undefined ? { kind: 'zeros' } : { kind: 'torchDefault', fanIn: inC, bias: true }, 'bias');
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return ops.linear(x, this.weight, this.bias);
  }
}

/** LayerNorm over channels (`name.weight`, `name.bias`, shape [C]). */
export class LayerNorm {
  readonly weight: ParamRef;
  readonly bias: ParamRef;

  constructor(scope: Scope, channels: number, readonly eps = 1e-6) {
    this.weight = scope.param('weight', [channels], { kind: 'ones' }, 'norm');
    this.bias = scope.param('bias', [channels], { kind: 'zeros' }, 'norm');
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return ops.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** BatchNorm2d with PyTorch's names (weight, bias, running_mean, running_var, num_batches_tracked). */
export class BatchNorm2d {
  readonly params: BatchNormParams;

  constructor(scope: Scope, channels: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    this.params = {
      weight: scope.param('weight', [channels], { kind: 'ones' }, 'norm'),
      bias: scope.param('bias', [channels], { kind: 'zeros' }, 'norm'),
      runningMean: scope.param('running_mean', [channels], { kind: 'zeros' }, 'buffer'),
      runningVar: scope.param('running_var', [channels], { kind: 'ones' }, 'buffer'),
    };
    scope.param('num_batches_tracked', [], { kind: 'zeros' }, 'buffer');
  }

  forward<T>(ops: Ops<T>, x: T): T {
    return ops.batchNorm(x, this.params, this.eps, this.momentum);
  }
}

export interface ConvModuleOptions extends ConvOptions {
  /** Normalisation after the conv; 'bn' makes the conv bias-free (mmcv ConvModule). */
  norm?: 'bn' | null;
  act?: 'relu' | null;
}

/** mmcv's ConvModule: conv (`name.conv`), optional BatchNorm (`name.bn`), optional ReLU. */
export class ConvModule {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d | null;
  readonly act: 'relu' | null;

  constructor(scope: Scope, inC: number, outC: number, kernel: number, opts: ConvModuleOptions = {}) {
    const norm = opts.norm === undefined ? 'bn' : opts.norm;
    this.conv = new Conv2d(scope.child('conv'), inC, outC, kernel, { ...opts, bias: norm === null });
    this.bn = norm === 'bn' ? new BatchNorm2d(scope.child('bn'), outC) : null;
    this.act = opts.act === undefined ? 'relu' : opts.act;
  }

  forward<T>(ops: Ops<T>, x: T): T {
    let y = this.conv.forward(ops, x);
    if (this.bn) y = this.bn.forward(ops, y);
    return this.act === 'relu' ? ops.relu(y) : y;
  }
}
