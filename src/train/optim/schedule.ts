/**
 * Per-iteration learning-rate schedules with mmcv's `LrUpdaterHook` semantics (by_epoch=False):
 * a regular policy (fixed, step, poly, cosine) computed from each group's base lr, multiplied
 * during the first `warmup.iters` iterations by a warm-up factor (linear, constant or exp).
 * Iteration k (0-based) is the k-th optimiser update.
 */

export interface WarmupConfig {
  type: 'linear' | 'constant' | 'exp';
  /** Number of warm-up iterations. */
  iters: number;
  /** lr factor at iteration 0 (mmcv `warmup_ratio`). */
  ratio: number;
}

export type ScheduleConfig =
  | { policy: 'fixed'; warmup?: WarmupConfig }
  /** lr = base · gamma^(milestones passed); `step` is one period or a list of milestones; floor `minLr`. */
  | { policy: 'step'; step: number | readonly number[]; gamma?: number; minLr?: number; warmup?: WarmupConfig }
  /** lr = (base − minLr)·(1 − k / maxIters)^power + minLr. */
  | { policy: 'poly'; maxIters: number; power?: number; minLr?: number; warmup?: WarmupConfig }
  /** lr = target + ½(base − target)(1 + cos(π k / maxIters)), target = minLrRatio·base or minLr. */
  | { policy: 'cosine'; maxIters: number; minLr?: number; minLrRatio?: number; warmup?: WarmupConfig };

/** The regular (post-warm-up) lr of a group with base lr `base` at iteration `k`. */
export function regularLr(cfg: ScheduleConfig, base: number, k: number): number {
  switch (cfg.policy) {
    case 'fixed':
      return base;
    case 'step': {
      const gamma = cfg.gamma ?? 0.1;
      let exp: number;
      if (typeof cfg.step === 'number') exp = Math.floor(k / cfg.step);
      else {
        exp = cfg.step.length;
        for (let i = 0; i < cfg.step.length; i++) {
          if (k < cfg.step[i]) {
            exp = i;
            break;
          }
        }
      }
      const lr = base * gamma ** exp;
      return cfg.minLr !== undefined ? Math.max(lr, cfg.minLr) : lr;
    }
    case 'poly': {
      const minLr = cfg.minLr ?? 0;
      const coeff = (1 - Math.min(k, cfg.maxIters) / cfg.maxIters) ** (cfg.power ?? 1);
      return (base - minLr) * coeff + minLr;
    }
    case 'cosine': {
      const target = cfg.minLrRatio !== undefined ? base * cfg.minLrRatio : (cfg.minLr ?? 0);
      const f = Math.min(k, cfg.maxIters) / cfg.maxIters;
      return target + 0.5 * (base - target) * (1 + Math.cos(Math.PI * f));
    }
  }
}

/** Warm-up factor at iteration `k` (1 once warm-up is over). */
export function warmupFactor(w: WarmupConfig | undefined, k: number): number {
  if (!w || w.iters <= 0 || k >= w.iters) return 1;
  switch (w.type) {
    case 'constant':
      return w.ratio;
    case 'linear':
      // mmcv writes 1 − (1 − k/iters)(1 − ratio); this equal form keeps small ratios exact.
      return w.ratio + (1 - w.ratio) * (k / w.iters);
    case 'exp':
      return w.ratio ** (1 - k / w.iters);
  }
}

/** lr of a group with base lr `base` at iteration `k`. */
export function lrAt(cfg: ScheduleConfig, base: number, k: number): number {
  return regularLr(cfg, base, k) * warmupFactor(cfg.warmup, k);
}

/** Checks a schedule's numbers; throws with the offending key. */
export function validateSchedule(cfg: ScheduleConfig): void {
  const bad = (key: string, want: string) => {
    throw new Error(`lr schedule: ${key} must be ${want}`);
  };
  if ((cfg.policy === 'poly' || cfg.policy === 'cosine') && !(Number.isInteger(cfg.maxIters) && cfg.maxIters > 0)) bad('maxIters', 'a positive integer');
  if (cfg.policy === 'step') {
    const steps = typeof cfg.step === 'number' ? [cfg.step] : cfg.step;
    if (steps.some((s) => !(Number.isInteger(s) && s > 0))) bad('step', 'positive integers');
    if (steps.some((s, i) => i > 0 && s <= steps[i - 1])) bad('step', 'increasing');
  }
  if (cfg.warmup && !(cfg.warmup.ratio > 0 && cfg.warmup.ratio <= 1)) bad('warmup.ratio', 'in (0, 1]');
  if (cfg.warmup && !(Number.isInteger(cfg.warmup.iters) && cfg.warmup.iters >= 0)) bad('warmup.iters', 'a non-negative integer');
}
