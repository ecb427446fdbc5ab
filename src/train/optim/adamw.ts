/**
 * AdamW with PyTorch semantics (torch.optim.AdamW, amsgrad off): decoupled weight decay
 * p ← p·(1 − lr·wd), moments m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², bias correction per
 * parameter step count, and ε added outside the square root:
 * p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε).
 * Parameter groups carry weight decay and an lr scale; the lr schedule is applied per iteration.
 * The state (moments, step counts, iteration) round-trips through host tensors + JSON.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../core/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import type { ParamGroup } from './param-groups.js';
import { lrAt, type ScheduleConfig, validateSchedule } from './schedule.js';

export interface AdamWOptions {
  /** Base learning rate (each group's is lr × its lrScale before the schedule). */
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  /** lr schedule (default: fixed). */
  schedule?: ScheduleConfig;
}

/** Serialisable optimiser state: JSON plus host tensors named `exp_avg.<param>`, `exp_avg_sq.<param>`. */
export interface OptimizerState {
  json: {
    format: 'convnext-adamw';
    version: 1;
    /** Completed updates (the schedule's iteration counter). */
    iteration: number;
    /** Updates each parameter received (PyTorch's per-parameter `step`). */
    steps: Record<string, number>;
    groups: ParamGroup[];
    lr: number;
    betas: [number, number];
    eps: number;
    schedule: ScheduleConfig;
  };
  tensors: Map<string, HostTensor>;
}

export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly schedule: ScheduleConfig;
  private iter = 0;
  private readonly steps = new Map<string, number>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly groupOf = new Map<string, ParamGroup>();

  /**
   * @param vars the model's variables by parameter name (TfjsParams.variables()).
   * @param groups which of them train, with weight decay and lr scale (buildParamGroups).
   */
  constructor(
    private readonly vars: ReadonlyMap<string, tf.Variable>,
    readonly groups: readonly ParamGroup[],
    readonly opts: AdamWOptions,
  ) {
    this.betas = [opts.betas?.[0] ?? 0.9, opts.betas?.[1] ?? 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.schedule = opts.schedule ?? { policy: 'fixed' };
    validateSchedule(this.schedule);
    if (!(opts.lr >= 0)) throw new Error(`AdamW: lr must be ≥ 0, got ${opts.lr}`);
    if (this.betas.some((b) => !(b >= 0 && b < 1))) throw new Error(`AdamW: betas must be in [0, 1), got ${this.betas}`);
    for (const g of groups) {
      for (const p of g.params) {
        if (!vars.has(p)) throw new Error(`AdamW: group ${g.name} names parameter ${p}, which the model lacks`);
        if (this.groupOf.has(p)) throw new Error(`AdamW: parameter ${p} is in two groups`);
        this.groupOf.set(p, g);
      }
    }
  }

  /** Number of completed updates. */
  get iteration(): number {
    return this.iter;
  }

  /** The variables this optimiser updates, in group order (pass to tf.variableGrads). */
  trainableVariables(): tf.Variable[] {
    return this.groups.flatMap((g) => g.params.map((p) => this.vars.get(p)!));
  }

  /** lr of each group at iteration `k` (default: the next update). */
  groupLrs(k = this.iter): number[] {
    return this.groups.map((g) => lrAt(this.schedule, this.opts.lr * g.lrScale, k));
  }

  /**
   * Applies one update with gradients by parameter name. Parameters of the groups without a
   * gradient are skipped (no decay, no moment update), as PyTorch skips `grad is None`.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>): void {
    const [b1, b2] = this.betas;
    const lrs = this.groupLrs(this.iter);
    this.groups.forEach((g, gi) => {
      const lr = lrs[gi];
      for (const name of g.params) {
        const grad = grads.get(name);
        if (!grad) continue;
        const p = this.vars.get(name)!;
        if (grad.shape.join() !== p.shape.join()) throw new Error(`AdamW: gradient of ${name} has shape [${grad.shape}], parameter [${p.shape}]`);
        const t = (this.steps.get(name) ?? 0) + 1;
        this.steps.set(name, t);
        const m = this.moment(this.m, name, p);
        const v = this.moment(this.v, name, p);
        const bc1 = 1 - b1 ** t;
        const bc2Sqrt = Math.sqrt(1 - b2 ** t);
        tf.tidy(() => {
          const decayed = g.weightDecay !== 0 ? tf.mul(p, 1 - lr * g.weightDecay) : p;
          const m1 = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
          const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.mul(grad, grad), 1 - b2));
          const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), this.eps);
          m.assign(m1);
          v.assign(v1);
          p.assign(tf.add(decayed, tf.mul(tf.div(m1, denom), -lr / bc1)));
        });
      }
    });
    this.iter++;
  }

  private moment(store: Map<string, tf.Variable>, name: string, p: tf.Variable): tf.Variable {
    let s = store.get(name);
    if (!s) {
      s = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      store.set(name, s);
    }
    return s;
  }

  /** State for a checkpoint (moments copied to the host). */
  async state(): Promise<OptimizerState> {
    const tensors = new Map<string, HostTensor>();
    for (const [prefix, store] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
      for (const [name, t] of store) {
        tensors.set(`${prefix}.${name}`, { shape: [...t.shape], data: new Float32Array((await t.data()) as Float32Array) });
      }
    }
    return {
      json: {
        format: 'convnext-adamw',
        version: 1,
        iteration: this.iter,
        steps: Object.fromEntries(this.steps),
        groups: this.groups.map((g) => ({ ...g, params: [...g.params] })),
        lr: this.opts.lr,
        betas: [...this.betas],
        eps: this.eps,
        schedule: this.schedule,
      },
      tensors,
    };
  }

  /**
   * Restores a state saved by {@link state} (same parameter set and groups). `source` names the
   * checkpoint in error messages.
   */
  loadState(state: OptimizerState, source = 'optimizer state'): void {
    const j = state.json;
    if (j.format !== 'convnext-adamw' || j.version !== 1) throw new UserError(`${source}: not a convnext AdamW state (format ${String(j.format)}, version ${String(j.version)})`);
    const mine = JSON.stringify(this.groups.map((g) => [g.name, g.params]));
    const theirs = JSON.stringify((j.groups ?? []).map((g) => [g.name, g.params]));
    if (mine !== theirs) throw new UserError(`${source}: parameter groups differ from this model's (different model, frozen stages or layer decay?)`);
    if (!Number.isInteger(j.iteration) || j.iteration < 0) throw new UserError(`${source}: iteration must be a non-negative integer`);
    const pending: Array<[Map<string, tf.Variable>, string, HostTensor]> = [];
    for (const [name, t] of Object.entries(j.steps ?? {})) {
      const p = this.vars.get(name);
      if (!p || !this.groupOf.has(name)) throw new UserError(`${source}: state for unknown parameter ${name}`);
      if (!Number.isInteger(t) || t < 1) throw new UserError(`${source}: step count of ${name} must be a positive integer`);
      for (const [prefix, store] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
        const h = state.tensors.get(`${prefix}.${name}`);
        if (!h) throw new UserError(`${source}: missing ${prefix}.${name}`);
        if (h.shape.join() !== p.shape.join()) throw new UserError(`${source}: ${prefix}.${name} has shape [${h.shape}], parameter [${p.shape}]`);
        pending.push([store, name, h]);
      }
    }
    this.disposeMoments();
    for (const [store, name, h] of pending) {
      const init = tf.tensor(h.data, h.shape, 'float32');
      store.set(name, tf.variable(init, false));
      init.dispose();
    }
    this.steps.clear();
    for (const [name, t] of Object.entries(j.steps ?? {})) this.steps.set(name, t);
    this.iter = j.iteration;
  }

  private disposeMoments(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  /** Releases the moments (not the model's variables). */
  dispose(): void {
    this.disposeMoments();
  }
}
