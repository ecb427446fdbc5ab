/**
 * Triton Inference Server model configurations (`config.pbtxt`, protobuf text format of Triton's
 * `inference.ModelConfig`) for exported graphs, run by Triton's ONNX Runtime backend
 * (platform `onnxruntime_onnx`).
 *
 * Every model takes a batch: `max_batch_size` > 0, dims without the batch dimension, and dynamic
 * batching on. A detector is its batched graph: `image_size` [2] per image, outputs padded to the
 * heads' `max_per_img` rows, and `num_dets` / `num_proposals`, whose per-image shape is a scalar
 * (dims [1] reshaped to [], Triton's form for a tensor that is only the batch dimension). With
 * the paste in the graph, `orig_size` [2] is a third input and `masks` are uint8 planes.
 */
import type { ModelConfig } from '../config/models.js';
import { isDetectorConfig } from '../config/detector.js';
import { featureModel } from './features.js';
import { Detector } from './detection/detector.js';

/** One input or output of a Triton model: its name and dims (−1: any size). */
export interface TritonTensor {
  name: string;
  dims: number[];
  /** The shape the model itself sees, where it differs from `dims` (a per-image scalar: []). */
  reshape?: number[];
  /** Element type (default float32). */
  dataType?: 'TYPE_UINT8';
}

/** What a `config.pbtxt` says. */
export interface TritonModelConfig {
  name: string;
  /** 0: no batching (dims are the whole shape). */
  maxBatchSize: number;
  inputs: TritonTensor[];
  outputs: TritonTensor[];
  /** Longest a request waits for a batch to fill (µs); only with batching. */
  maxQueueDelayMicroseconds: number;
  /** CPU instances of the model. */
  instances: number;
}

/** The Triton view of a config's exported graph: `size` fixes height and width (else −1). */
export function tritonModelConfig(cfg: ModelConfig, opts: { name: string; size?: readonly [number, number]; imageSizeInput?: boolean; pasteMasks?: boolean; maxBatchSize: number; maxQueueDelayMicroseconds?: number; instances?: number }): TritonModelConfig {
  const [h, w] = opts.size ?? [-1, -1];
  const common = { name: opts.name, maxQueueDelayMicroseconds: opts.maxQueueDelayMicroseconds ?? 2000, instances: opts.instances ?? 1 };
  if (isDetectorConfig(cfg)) {
    const det = new Detector(cfg);
    const k = det.roiHead.o.test.maxPerImg;
    const m = 2 * det.roiHead.o.maskRoi.output;
    const count = (name: string): TritonTensor => ({ name, dims: [1], reshape: [] });
    return {
      ...common,
      maxBatchSize: opts.maxBatchSize,
      inputs: [
        { name: 'input', dims: [3, h, w] },
        ...(opts.imageSizeInput ? [{ name: 'image_size', dims: [2] }] : []),
        ...(opts.pasteMasks ? [{ name: 'orig_size', dims: [2] }] : []),
      ],
      outputs: [
        { name: 'dets', dims: [k, 6] },
        opts.pasteMasks ? { name: 'masks', dims: [k, 1, -1, -1], dataType: 'TYPE_UINT8' } : { name: 'masks', dims: [k, 1, m, m] },
        count('num_dets'),
        { name: 'proposals', dims: [det.rpnHead.proposalOptions.maxPerImg, 5] }, count('num_proposals'),
      ],
    };
  }
  // The stem (stride 4) and each downsampling (stride 2) floor odd sizes.
  const scale = (s: number): number => (h > 0 ? Math.floor(h / s) : -1);
  const scaleW = (s: number): number => (w > 0 ? Math.floor(w / s) : -1);
  const outputs = cfg.type === 'classifier' ? [{ name: 'logits', dims: [cfg.num_classes] }]
    : cfg.type === 'segmentor' ? [{ name: 'logits', dims: [cfg.num_classes, h, w] }]
      : featureModel(cfg).specs.map((s) => ({ name: s.name, dims: [s.channels, scale(s.stride), scaleW(s.stride)] }));
  return { ...common, maxBatchSize: opts.maxBatchSize, inputs: [{ name: 'input', dims: [3, h, w] }], outputs };
}

const quote = (s: string): string => JSON.stringify(s);

/** `config.pbtxt` text of a {@link TritonModelConfig}. */
export function formatTritonConfig(c: TritonModelConfig): string {
  const tensor = (t: TritonTensor, input: boolean): string => [
    '  {',
    `    name: ${quote(t.name)}`,
    `    data_type: ${t.dataType ?? 'TYPE_FP32'}`,
    ...(input && t.name === 'input' && c.maxBatchSize > 0 ? ['    format: FORMAT_NCHW'] : []),
    `    dims: [ ${t.dims.join(', ')} ]`,
    ...(t.reshape ? [`    reshape: { shape: [ ${t.reshape.join(', ')} ] }`] : []),
    '  }',
  ].join('\n');
  const lines = [
    `name: ${quote(c.name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${c.maxBatchSize}`,
    `input [\n${c.inputs.map((t) => tensor(t, true)).join(',\n')}\n]`,
    `output [\n${c.outputs.map((t) => tensor(t, false)).join(',\n')}\n]`,
    `instance_group [\n  {\n    count: ${c.instances}\n    kind: KIND_CPU\n  }\n]`,
  ];
  if (c.maxBatchSize > 0) lines.push(`dynamic_batching {\n  max_queue_delay_microseconds: ${c.maxQueueDelayMicroseconds}\n}`);
  return `${lines.join('\n')}\n`;
}
