/**
 * What tasks run networks through, on any engine (onnxruntime-node, TensorFlow.js, or
 * onnxruntime-web in a page): host tensors in, host tensors out. Types only; the engines live
 * elsewhere.
 */
import type { HostTensor } from './host-tensor.js';
import type { BackendChoice } from './tfjs/backend-choices.js';

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
