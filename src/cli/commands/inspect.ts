/**
 * `convnext inspect FILE [--json]`: tensors (name, dtype, shape), parameter count, detected key
 * layout and wrapper of a checkpoint, without reading tensor data.
 */
import type { Command } from 'commander';
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

export function register(program: Command): void {
  program
    .command('inspect')
    .description(DESCRIPTIONS['inspect'])
    .argument('<file>', 'checkpoint')
    .option('--json', 'print JSON')
    .option('--wrapper <key>', 'top-level entry holding the state dict')
    .action(async (file: string, f: { json?: boolean; wrapper?: string }) => {
      const info = await inspectWeights(file, { wrapper: f.wrapper });
      process.stdout.write(f.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInspect(info)}\n`);
    });
}
