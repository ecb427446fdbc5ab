/**
 * One optimisation step on the tfjs engine: the loss and the gradients of the optimiser's
 * variables, optional clipping by global norm, the AdamW update, and every intermediate tensor
 * released (the tensor count is the same before and after a step).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from './optim/adamw.js';
import { clipGradNorm } from './optim/clip.js';

export interface StepResult {
  /** Loss value before the update. */
  loss: number;
  /** Global gradient norm before clipping (when clipping). */
  gradNorm?: number;
}

export interface StepOptions {
  /** Clip gradients to this global L2 norm. */
  clipNorm?: number;
}

/**
 * Runs `loss` (which builds the forward pass with a training-mode TfjsOps and returns a scalar),
 * differentiates it with respect to the optimiser's variables and applies the update. Call
 * `prepareTraining()` (src/core/tfjs/grad) once before the first step. Variables `vars` are the
 * model's, by parameter name (TfjsParams.variables()).
 */
export async function trainStep(opt: AdamW, vars: ReadonlyMap<string, tf.Variable>, loss: () => tf.Scalar, opts: StepOptions = {}): Promise<StepResult> {
  const byVarName = new Map<string, string>();
  for (const [name, v] of vars) byVarName.set(v.name, name);
  const { value, grads } = tf.variableGrads(loss, opt.trainableVariables());
  const named = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) {
    const name = byVarName.get(varName);
    if (name) named.set(name, g);
  }
  let applied = named;
  let gradNorm: number | undefined;
  try {
    if (opts.clipNorm !== undefined) {
      const c = clipGradNorm(named, opts.clipNorm);
      applied = c.grads;
      gradNorm = (await c.totalNorm.data())[0];
      c.totalNorm.dispose();
    }
    opt.step(applied);
    const lossValue = (await value.data())[0];
    return { loss: lossValue, gradNorm };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
    if (applied !== named) tf.dispose([...applied.values()]);
  }
}
