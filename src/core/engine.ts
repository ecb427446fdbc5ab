/** One interface over both engines, for tasks: run host tensors through a network. */
import type { Network } from './model.js';
import { OrtRunner } from './ort/runner.js';
import type { EngineName, EngineOptions, Runner } from './runner.js';
import type { WeightMap } from './weights.js';

export { ENGINES, type EngineName, type EngineOptions, type Runner } from './runner.js';

/** Prepares `net` with `weights` on the named engine. */
export async function createRunner(engine: EngineName, net: Network, weights: WeightMap, opts: EngineOptions = {}): Promise<Runner> {
  if (engine === 'tfjs') {
    // TensorFlow.js loads only when used: ort runs (and the CLI's start) skip its modules.
    const [{ initBackend }, { TfjsRunner }] = await Promise.all([import('./tfjs/backend.js'), import('./tfjs/runner.js')]);
    await initBackend(opts.backend ?? 'auto', opts.log);
    return new TfjsRunner(net, weights);
  }
  return OrtRunner.create(net, weights, { threads: opts.threads, spinning: opts.spinning, inputShape: opts.inputShape, name: opts.graphName });
}
