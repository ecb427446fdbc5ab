/** Shared test helpers: fixtures, comparisons against references. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../src/core/host-tensor.js';
import { readSafetensors } from '../src/io/safetensors.js';
import type { ClassifierConfig } from '../src/config/classifier.js';
import { resolveConfig } from '../configs/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The compiled CLI (`npm test` builds it first). */
export const CLI_BIN = fileURLToPath(new URL('../bin/convnext.js', import.meta.url));

/** Runs the compiled CLI with `args`; resolves with its exit code and output (never rejects). */
export function runCli(args: readonly string[], timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Reads a fixture's io file: `input` and `expected.<name>` tensors, plus its JSON config. */
export async function loadIo(path: string): Promise<{ input: HostTensor; expected: Record<string, HostTensor>; config: Record<string, unknown> }> {
  const { tensors, metadata } = await readSafetensors(path);
  const input = tensors.get('input');
  if (!input) throw new Error(`${path}: no input tensor`);
  const expected: Record<string, HostTensor> = {};
  for (const [k, v] of tensors) if (k.startsWith('expected.')) expected[k.slice(9)] = v;
  return { input, expected, config: JSON.parse(metadata.config ?? '{}') as Record<string, unknown> };
}

export interface Comparison {
  /** Largest absolute difference. */
  maxErr: number;
  /** Largest absolute expected value. */
  maxAbs: number;
  /** maxErr / maxAbs. */
  rel: number;
}

/** Compares shapes (throws on mismatch) and values. */
export function compare(actual: HostTensor, expected: HostTensor): Comparison {
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    throw new Error(`shape ${actual.shape} != expected ${expected.shape}`);
  }
  let maxErr = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.data.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(actual.data[i] - expected.data[i]));
    maxAbs = Math.max(maxAbs, Math.abs(expected.data[i]));
  }
  return { maxErr, maxAbs, rel: maxErr / (maxAbs || 1) };
}

/** The project's parity tolerance: max abs error ≤ 1e-4 × max abs of the expected output. */
export const PARITY_REL_TOL = 1e-4;

/** A named config that must be a classifier (narrows the type for tests). */
export function classifierConfig(name: string): ClassifierConfig {
  const c = resolveConfig(name);
  if (c.type !== 'classifier') throw new Error(`${name} is a ${c.type}, not a classifier`);
  return c;
}
