/** One interface over both engines, for tasks: run host tensors through a network. */
import type { HostTensor } from './host-tensor.js';
import type { Network } from './model.js';
import { OrtRunner } from './ort/runner.js';
import type { BackendChoice } from './tfjs/backend-choices.js';
import type { WeightMap } from './weights.js';

export const ENGINES = ['ort', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EngineOptions {
  /** TensorFlow.js backend (tfjs engine only). */
  backend?: BackendChoice;
  /** onnxruntime intra-op threads (ort engine only). */
  threads?: number;
  /** onnxruntime thread spinning (ort engine only). */
  spinning?: boolean;
  /**
   * The one input shape [N, C, H, W] the runner will see, where known in advance: the ort engine
   * then builds a fixed-size graph, which onnxruntime plans and runs faster than a dynamic one
   * (runs with another shape are refused).
   */
  inputShape?: readonly number[];
  /** Receives one-line notes such as the chosen backend. */
  log?: (line: string) => void;
  /** Name of the ONNX graph (ort engine). */
  graphName?: string;
}

export interface Runner {
  /** One NCHW image batch, plus the network's table inputs by name; outputs by name (NCHW or tables). */
  run(input: HostTensor, tables?: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  dispose(): Promise<void> | void;
}

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
