/** Options and steps shared by the model commands: config, overrides, weights, engine. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { fileError, UserError } from '../core/errors.js';
import { ENGINES, type EngineName, type EngineOptions } from '../core/engine.js';
import { BACKEND_CHOICES, type BackendChoice } from '../core/tfjs/backend-choices.js';
import type { ParamRegistry } from '../core/params.js';
import { bindWeights, formatBindReport, initWeights, type WeightMap } from '../core/weights.js';
import type { ModelConfig } from '../config/models.js';
import { resolveConfig } from '../../configs/index.js';
import { loadWeights } from '../io/load-weights.js';
import { byteProgress } from './progress.js';
import { readFile } from 'node:fs/promises';
import { describeOnnxModel, type OnnxModel } from '../tasks/onnx-model.js';

export interface ModelFlags {
  config: string;
  /** An exported ONNX file instead of --config and --weights (commands that accept it). */
  model?: string;
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

/** A commander parser for an integer ≥ 0 (`name` in the error). */
export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} expects an integer ≥ 0, got '${v}'`);
    return n;
  };
}

/**
 * Adds --config, --set, --engine, --backend, --threads (and --weights unless `weights` is false).
 * With `model`, --model (an exported ONNX file) may replace --config and --weights: see {@link checkModelFlags}.
 */
export function addModelOptions(cmd: Command, opts: { weights?: 'required' | 'optional' | false; model?: boolean } = {}): Command {
  if (opts.model) {
    cmd.option('-c, --config <name>', 'named config (see `convnext configs`) or a JSON file (or give --model)')
      .option('-m, --model <file>', 'an ONNX file written by `convnext export` (its metadata gives the config; ort engine)');
  } else cmd.requiredOption('-c, --config <name>', 'named config (see `convnext configs`) or a JSON file');
  cmd.option('--set <key=value>', 'override a config value (repeatable), e.g. backbone.drop_path_rate=0.2', collect);
  if (opts.weights === 'required' && opts.model) cmd.option('-w, --weights <file>', 'weights (.safetensors or .pth); not with --model');
  else if (opts.weights === 'required') cmd.requiredOption('-w, --weights <file>', 'weights (.safetensors or .pth)');
  else if (opts.weights === 'optional') cmd.option('-w, --weights <file>', 'weights (.safetensors or .pth); random when omitted');
  cmd.addOption(new Option('-e, --engine <engine>', 'inference engine').choices([...ENGINES]).default('ort'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (tfjs engine)').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt('--threads'))
    .option('--verbose', 'show stack traces on errors');
  return cmd;
}

/** Checks that the flags give either --model alone or --config with --weights (`weights`: whether the command needs weights). */
export function checkModelFlags(f: ModelFlags, weights = true): void {
  if (f.model !== undefined) {
    if (f.config !== undefined || f.weights !== undefined || (f.set?.length ?? 0) > 0) throw new UserError('give --model, or --config and --weights, not both');
    if (f.engine !== 'ort') throw new UserError(`--model runs on the ort engine, not ${f.engine}`);
    return;
  }
  if (f.config === undefined) throw new UserError('give --config (a named config or JSON file) or --model (an exported ONNX file)');
  if (weights && f.weights === undefined) throw new UserError('give --weights with --config');
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

/** Reads an exported ONNX file and what its metadata describes (a one-line error when it cannot). */
export async function readModelFile(file: string): Promise<OnnxModel & { bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw fileError(file, e);
  }
  return { ...describeOnnxModel(bytes, file), bytes };
}
