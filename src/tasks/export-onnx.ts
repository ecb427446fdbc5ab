/** The ONNX graph `convnext export` writes for a config: its network, input dims and metadata. */
import { buildOnnx, type BuildOptions } from '../core/ort/build.js';
import type { Network } from '../core/model.js';
import type { WeightMap } from '../core/weights.js';
import { isDetectorConfig } from '../config/detector.js';
import type { ModelConfig } from '../config/models.js';
import { packageVersion } from '../io/assets.js';
import { Detector } from './detection/detector.js';
import { exportMetadata } from './model-metadata.js';
import { mainNetwork } from './networks.js';

/**
 * The network an export builds. A detector at batch 1 is its one-image graph (with `image_size`
 * when asked); at any other batch its batched graph (per-image outputs padded, with `num_dets`;
 * with `pasteMasks`, the masks pasted at the original size inside the graph).
 */
export function exportNetwork(cfg: ModelConfig, imageSizeInput = false, batch: number | 'batch' = 1, pasteMasks = false): Network {
  if (!isDetectorConfig(cfg)) return mainNetwork(cfg);
  const det = new Detector(cfg);
  if (batch !== 1 || pasteMasks) return det.batchNetwork(imageSizeInput, { pasteMasks });
  return imageSizeInput ? det.runnerNetwork() : det.network();
}

export interface ExportGraphOptions {
  /** The model's name in its metadata (the config name). */
  name: string;
  /** Fixed input height and width, or null for dynamic ones. */
  size: readonly [number, number] | null;
  /** A fixed batch, or 'batch' for a dynamic one (networks with a batch of their own keep it). */
  batch: number | 'batch';
  imageSizeInput?: boolean;
  weightsDtype?: 'float32' | 'float16';
  pointwise?: BuildOptions['pointwise'];
  /** More metadata entries. */
  metadata?: Readonly<Record<string, string>>;
}

/** The input dims of an export of `net`. */
export function exportInputDims(net: Network, o: Pick<ExportGraphOptions, 'size' | 'batch'>): Array<number | string> {
  return [net.batch ?? o.batch, net.inputChannels, o.size?.[0] ?? 'height', o.size?.[1] ?? 'width'];
}

/** Serialises `net` (with `weights`) as the ONNX model `convnext export` writes. */
export function exportGraph(cfg: ModelConfig, net: Network, weights: WeightMap, o: ExportGraphOptions): Uint8Array {
  const producerVersion = packageVersion();
  const input = exportInputDims(net, o);
  const metadata = {
    ...exportMetadata(cfg, { name: o.name, producerVersion, input, imageSizeInput: o.imageSizeInput ?? false, batched: 'num_dets' in net.outputs, pasted: 'orig_size' in (net.tables ?? {}) }),
    'convnext.weights_dtype': o.weightsDtype ?? 'float32',
    ...o.metadata,
  };
  const batch = typeof input[0] === 'number' ? input[0] : undefined;
  return buildOnnx(net, weights, { ...(o.size ? { size: o.size } : {}), ...(batch !== undefined ? { batch } : {}), metadata, producerVersion, weightsDtype: o.weightsDtype, pointwise: o.pointwise });
}
