/**
 * Configs → validated configs: `--set` overrides, zod validation with readable paths, and the
 * names of a catalogue. No file access, so it runs in browsers too; config-file.ts reads JSON
 * files and resolves names.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { type ModelConfig, type ModelConfigInput, modelConfigSchema } from './models.js';

/** Model configs by name. */
export type ConfigCatalog = Readonly<Record<string, ModelConfigInput>>;

/** Names of a catalogue's configs, sorted. */
export function catalogNames(catalog: ConfigCatalog): string[] {
  return Object.keys(catalog).sort();
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** Up to three names of `names` closest to `name`. */
export function closeNames(names: readonly string[], name: string): string[] {
  return [...names]
    .map((n) => ({ n, d: n.includes(name) || name.includes(n) ? 0 : editDistance(name, n) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.n);
}

/** Key names that would reach an object's prototype machinery: refused in configs and `--set` paths. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting a config may have (real configs nest 4–6 levels). */
const MAX_CONFIG_DEPTH = 64;

/**
 * Refuses a parsed config (JSON) holding a key named `__proto__`, `constructor` or `prototype` at
 * any depth, or nested deeper than 64 levels; `origin` names the file in the message. Such keys
 * have no meaning in a config, and code that copies configs key by key could otherwise write to a
 * prototype. Iterative, so no input can exhaust the call stack here.
 */
export function assertSafeKeys(value: unknown, origin: string, path: string[] = []): void {
  const todo: Array<[unknown, string[]]> = [[value, path]];
  while (todo.length) {
    const [v, p] = todo.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (p.length >= MAX_CONFIG_DEPTH) {
      throw new UserError(`${origin}: nested more than ${MAX_CONFIG_DEPTH} levels deep (at '${p.slice(0, 6).join('.')}…')`);
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => todo.push([x, [...p, String(i)]]));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (UNSAFE_KEYS.has(k)) throw new UserError(`${origin}: key '${[...p, k].join('.')}' is not allowed (${[...UNSAFE_KEYS].join(', ')} are reserved names)`);
      todo.push([(v as Record<string, unknown>)[k], [...p, k]]);
    }
  }
}

/** Whether a raw config is a training recipe (a `model` object, no `type`), as a training run saves it. */
export function isRecipeLike(raw: Record<string, unknown>): boolean {
  return raw.type === undefined && typeof raw.model === 'object' && raw.model !== null;
}

function parseValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Applies one `path.to.key=value` override in place (value parsed as JSON when it parses). */
export function applyOverride(cfg: Record<string, unknown>, expr: string): void {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${expr}: expected key.path=value`);
  const path = expr.slice(0, eq).split('.');
  const unsafe = path.find((k) => UNSAFE_KEYS.has(k));
  if (unsafe !== undefined) throw new UserError(`--set ${expr}: '${unsafe}' is not allowed in a key path (${[...UNSAFE_KEYS].join(', ')} are reserved names)`);
  if (path.some((k) => k === '')) throw new UserError(`--set ${expr}: empty key in the path`);
  const value = parseValue(expr.slice(eq + 1));
  assertSafeKeys(value, `--set ${expr}`);
  let node: Record<string, unknown> = cfg;
  for (let i = 0; i < path.length - 1; i++) {
    const next = Object.hasOwn(node, path[i]) ? node[path[i]] : undefined;
    if (next === undefined) node[path[i]] = {};
    else if (typeof next !== 'object' || next === null) {
      throw new UserError(`--set ${expr}: ${path.slice(0, i + 1).join('.')} is not an object`);
    }
    node = node[path[i]] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** One line per zod issue: `path: message`. */
export function formatIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const where = i.path.join('.') || '(root)';
      if (i.code === 'unrecognized_keys') return `${where}: unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Validates a raw config; `origin` names where it came from in messages. */
export function validateConfig(raw: unknown, origin: string): ModelConfig {
  assertSafeKeys(raw, `config ${origin}`);
  const r = modelConfigSchema.safeParse(raw);
  if (!r.success) throw new UserError(`config ${origin}: ${formatIssues(r.error)}`);
  return r.data;
}
