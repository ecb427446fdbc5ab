/** Options and steps shared by the model commands: config, overrides, weights, engine. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { UserError } from '../core/errors.js';
import { ENGINES, type EngineName, type EngineOptions } from '../core/engine.js';
import { BACKEND_CHOICES, type BackendChoice } from '../core/tfjs/backend.js';
import type { ParamRegistry } from '../core/params.js';
import { bindWeights, formatBindReport, initWeights, type WeightMap } from '../core/weights.js';
import type { ModelConfig } from '../config/models.js';
import { resolveConfig } from '../../configs/index.js';
import { loadWeights } from '../io/load-weights.js';
import { byteProgress } from './progress.js';

export interface ModelFlags {
  config: string;
  set?: string[];
  weights?: string;
  engine: EngineName;
  backend: BackendChoice;
  threads?: number;
  verbose?: boolean;
}

/** Commander reducer for repeatable options. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Parses a positive integer flag value. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UserError(`${name} expects a positive integer, got '${v}'`);
    return n;
  };
}

/** Adds --config, --set, --engine, --backend, --threads (and --weights unless `weights` is false). */
export function addModelOptions(cmd: Command, opts: { weights?: 'required' | 'optional' | false } = {}): Command {
  cmd.requiredOption('-c, --config <name>', 'named config (see `convnext configs`) or a JSON file')
    .option('--set <key=value>', 'override a config value (repeatable), e.g. backbone.drop_path_rate=0.2', collect);
  if (opts.weights === 'required') cmd.requiredOption('-w, --weights <file>', 'weights (.safetensors or .pth)');
  else if (opts.weights === 'optional') cmd.option('-w, --weights <file>', 'weights (.safetensors or .pth); random when omitted');
  cmd.addOption(new Option('-e, --engine <engine>', 'inference engine').choices([...ENGINES]).default('ort'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (tfjs engine)').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--verbose', 'show stack traces on errors');
  return cmd;
}

/** Resolves the config named by the flags. */
export function configFromFlags(f: ModelFlags): ModelConfig {
  return resolveConfig(f.config, f.set ?? []);
}

/** Engine options from the flags; the backend line goes to stderr. */
export function engineOptions(f: ModelFlags): EngineOptions {
  return { backend: f.backend, threads: f.threads, log: (l) => console.error(l) };
}

/**
 * Loads `file` and binds it to `registry` (missing parameters are an error); prints the bind
 * summary to stderr. Without a file, returns freshly initialised weights (seeded).
 */
export async function weightsFor(registry: ParamRegistry, file: string | undefined, opts: { allowMissing?: boolean; quiet?: boolean } = {}): Promise<WeightMap> {
  if (!file) return initWeights(registry, 0);
  const bar = byteProgress(`loading ${file}`, opts.quiet ? Infinity : 64 * 1024 * 1024);
  let loaded;
  try {
    loaded = await loadWeights(file, { onProgress: bar.update });
  } finally {
    bar.stop();
  }
  const { weights, report } = bindWeights(registry, loaded.tensors, { allowMissing: opts.allowMissing, source: file });
  if (!opts.quiet) console.error(`${file} (${loaded.source}${loaded.wrapper ? `, in '${loaded.wrapper}'` : ''}): ${formatBindReport(report)}`);
  return weights;
}
