/**
 * The model behind a pipeline: the config (named, a JSON file or an object; overrides applied) and
 * its bound weights. Without a config, each task uses its bundled demo model (assets/demo).
 */
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../../configs/index.js';
import { describeOnnxModel, type OnnxModel } from '../tasks/onnx-model.js';
import { fileError, UserError } from '../core/errors.js';
import type { ParamRegistry } from '../core/params.js';
import { bindWeights, type WeightMap } from '../core/weights.js';
import { applyOverride, validateConfig } from '../config/resolve.js';
import type { ModelConfig } from '../config/models.js';
import { assetPath } from '../io/assets.js';
import { loadWeights } from '../io/load-weights.js';
import type { PipelineOptions, Task } from './types.js';

/** The bundled demo model of each task: config name and weights file under assets/demo. */
export const DEMO_MODELS: Readonly<Record<Task, { config: string; weights: string }>> = {
  'object-detection': { config: 'demo_mask-rcnn_convnext-synth', weights: 'mask-rcnn_convnext-synth.safetensors' },
  'instance-segmentation': { config: 'demo_mask-rcnn_convnext-synth', weights: 'mask-rcnn_convnext-synth.safetensors' },
  'image-segmentation': { config: 'demo_upernet_convnext-synth', weights: 'upernet_convnext-synth.safetensors' },
  'image-classification': { config: 'test_convnext-t-narrow_cls10', weights: 'convnext-t-narrow_cls10.safetensors' },
  // The demo segmentor's backbone: its four dense levels.
  'image-feature-extraction': { config: 'demo_upernet_convnext-synth', weights: 'upernet_convnext-synth.safetensors' },
};

/** The bundled weights of a named config, if it has some. */
function bundledWeights(name: string): string | undefined {
  const demo = Object.values(DEMO_MODELS).find((m) => m.config === name);
  return demo ? assetPath('demo', demo.weights) : undefined;
}

/** The model of the options: a resolved config (the task's demo config when none is given) with its weights file, or an exported ONNX file. */
export function pipelineModel(task: Task, o: PipelineOptions): { config: ModelConfig; weights?: string; onnx?: OnnxModel & { bytes: Uint8Array }; origin: string } {
  const set = o.set ?? [];
  if (o.model !== undefined) {
    if (o.config !== undefined || o.weights !== undefined || set.length > 0) throw new UserError(`pipeline('${task}'): give a model file, or a config and weights, not both`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(o.model);
    } catch (e) {
      throw fileError(o.model, e);
    }
    const onnx = { ...describeOnnxModel(bytes, o.model), bytes };
    return { config: onnx.config, onnx, origin: o.model };
  }
  if (o.config === undefined) {
    if (o.weights !== undefined) throw new UserError(`pipeline('${task}'): weights given without a config`);
    const demo = DEMO_MODELS[task];
    return { config: resolveConfig(demo.config, set), weights: assetPath('demo', demo.weights), origin: demo.config };
  }
  let config: ModelConfig;
  let origin: string;
  if (typeof o.config === 'string') {
    config = resolveConfig(o.config, set);
    origin = o.config;
  } else {
    const raw = structuredClone(o.config) as Record<string, unknown>;
    for (const s of set) applyOverride(raw, s);
    origin = 'the config object';
    config = validateConfig(raw, origin);
  }
  const weights = o.weights ?? (typeof o.config === 'string' ? bundledWeights(o.config) : undefined);
  if (weights === undefined) throw new UserError(`pipeline('${task}'): ${origin} needs weights (the weights option: a .safetensors or .pth file)`);
  return { config, weights, origin };
}

/** Loads `file` and binds it to `registry`; every declared parameter must be present. */
export async function loadBound(registry: ParamRegistry, file: string): Promise<WeightMap> {
  const loaded = await loadWeights(file);
  return bindWeights(registry, loaded.tensors, { source: file }).weights;
}
