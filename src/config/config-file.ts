/**
 * Named configs and JSON config files → validated configs: lookup in a catalogue of named configs
 * (passed in: the shipped one is configs/index.ts's, which also binds these functions to it, so
 * library code never imports named configs), a file's JSON, `--set` overrides, validation.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import type { ModelConfig, ModelConfigInput } from './models.js';
import { applyOverride, assertSafeKeys, catalogNames, closeNames, type ConfigCatalog, isRecipeLike, validateConfig } from './resolve.js';

/** The parsed contents of a JSON config file (a model config, or a training recipe with its `model`). */
export function readConfigFile(name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(name, 'utf8'));
  } catch (e) {
    throw new UserError(`config file ${name}: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UserError(`config file ${name}: expected a JSON object`);
  assertSafeKeys(v, `config file ${name}`);
  return v as Record<string, unknown>;
}

/**
 * The raw (unvalidated) config of a name in `catalog`, or of a JSON file path. A training run's
 * saved config.json (a recipe) gives its model.
 */
export function rawConfig(catalog: ConfigCatalog, name: string): ModelConfigInput {
  if (name.endsWith('.json')) {
    const raw = readConfigFile(name);
    return (isRecipeLike(raw) ? raw.model : raw) as ModelConfigInput;
  }
  const c = Object.hasOwn(catalog, name) ? catalog[name] : undefined;
  if (!c) throw new UserError(`unknown config '${name}' (did you mean ${closeNames(catalogNames(catalog), name).join(', ')}? 'convnext configs' lists all)`);
  return structuredClone(c);
}

/** Resolves a config of `catalog` (or a JSON file) with `--set` overrides into a validated config. */
export function resolveFrom(catalog: ConfigCatalog, name: string, overrides: readonly string[] = []): ModelConfig {
  const raw = rawConfig(catalog, name) as Record<string, unknown>;
  for (const o of overrides) applyOverride(raw, o);
  return validateConfig(raw, overrides.length ? `${name} (with --set ${overrides.join(' ')})` : name);
}
