/**
 * `convnext inspect FILE [--json]`: tensors (name, dtype, shape), parameter count, detected key
 * layout and wrapper of a checkpoint, without reading tensor data; for an ONNX model, its producer,
 * inputs, outputs and metadata (what `convnext export` writes: config, classes, pre-processing,
 * output layouts).
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { fileError } from '../../core/errors.js';
import { type OnnxInfo, readOnnxInfo } from '../../core/ort/metadata.js';
import { inspectWeights, type WeightsInfo } from '../../io/load-weights.js';
import { DESCRIPTIONS } from './descriptions.js';

/** Human-readable listing of {@link WeightsInfo}. */
export function formatInspect(info: WeightsInfo): string {
  const lines: string[] = [];
  lines.push(`file:       ${info.file}`);
  lines.push(`format:     ${info.format}`);
  lines.push(`layout:     ${info.source ?? 'unknown (pass --from to convert)'}`);
  lines.push(`wrapper:    ${info.wrapper ?? '(none)'}${info.topKeys.length ? `  [top-level keys: ${info.topKeys.join(', ')}]` : ''}`);
  lines.push(`tensors:    ${info.tensors.length}`);
  lines.push(`parameters: ${info.parameterCount.toLocaleString('en-US')}`);
  const meta = Object.entries(info.metadata);
  if (meta.length) lines.push(`metadata:   ${meta.map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`).join(', ')}`);
  if (info.unmapped.length) lines.push(`not mapped: ${info.unmapped.length} key(s): ${info.unmapped.slice(0, 8).join(', ')}${info.unmapped.length > 8 ? ', ...' : ''}`);
  lines.push('');
  const w = Math.max(4, ...info.tensors.map((t) => t.name.length));
  lines.push(`${'name'.padEnd(w)}  ${'dtype'.padEnd(8)}  shape`);
  for (const t of info.tensors) lines.push(`${t.name.padEnd(w)}  ${t.dtype.padEnd(8)}  [${t.shape.join(', ')}]`);
  return lines.join('\n');
}

/** Human-readable listing of an ONNX model's {@link OnnxInfo}; JSON metadata values pretty-printed. */
export function formatOnnxInfo(file: string, info: OnnxInfo): string {
  const io = (v: OnnxInfo['inputs']) => v.map((x) => `${x.name} [${x.dims.join(', ')}]`).join(', ');
  const lines = [`file:      ${file}`, `format:    ONNX (opset ${info.opset}), produced by ${info.producer || '?'} ${info.producerVersion}`, `inputs:    ${io(info.inputs)}`, `outputs:   ${io(info.outputs)}`];
  const meta = Object.entries(info.metadata);
  if (meta.length === 0) lines.push('metadata:  (none)');
  for (const [k, v] of meta) {
    let shown = v;
    try {
      const parsed: unknown = JSON.parse(v);
      // Short JSON values pretty-printed; long ones (the whole config) stay on one line.
      if (typeof parsed === 'object' && parsed !== null && v.length <= 400) shown = JSON.stringify(parsed, null, 2).split('\n').join('\n  ');
    } catch {
      // a plain string value
    }
    lines.push(`${k}: ${shown}`);
  }
  return lines.join('\n');
}

async function inspectOnnx(file: string, json: boolean): Promise<void> {
  let info: OnnxInfo;
  try {
    info = readOnnxInfo(await readFile(file));
  } catch (e) {
    throw fileError(file, e, `not a readable ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  process.stdout.write(json ? `${JSON.stringify({ file, ...info }, null, 2)}\n` : `${formatOnnxInfo(file, info)}\n`);
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description(DESCRIPTIONS['inspect'])
    .argument('<file>', 'checkpoint, or an ONNX model (.onnx)')
    .option('--json', 'print JSON')
    .option('--wrapper <key>', 'top-level entry holding the state dict')
    .action(async (file: string, f: { json?: boolean; wrapper?: string }) => {
      if (file.toLowerCase().endsWith('.onnx')) return inspectOnnx(file, f.json ?? false);
      const info = await inspectWeights(file, { wrapper: f.wrapper });
      process.stdout.write(f.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInspect(info)}\n`);
    });
}
