/**
 * `convnext convert IN OUT.safetensors`: reads a checkpoint in any known layout (.pth zip or
 * legacy, .safetensors) and writes its tensors under canonical names, atomically.
 */
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { UserError } from '../../core/errors.js';
import type { DType } from '../../core/host-tensor.js';
import type { StoredDType } from '../../io/dtypes.js';
import { CANONICAL_METADATA_KEY, loadWeights, type LoadedWeights } from '../../io/load-weights.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { CHECKPOINT_SOURCES, type CheckpointSource } from '../../io/sources.js';
import { byteProgress } from '../progress.js';
import { bindWeights, formatBindReport } from '../../core/weights.js';
import { resolveConfig } from '../../../configs/index.js';
import { mainNetwork } from '../../tasks/networks.js';
import { DESCRIPTIONS } from './descriptions.js';

/** Options of {@link convertCheckpoint}. */
export interface ConvertOptions {
  from?: CheckpointSource;
  dtype?: 'float32' | 'float16';
  wrapper?: string;
  /** Show progress (bar on a TTY, lines otherwise) for files of at least this many bytes. */
  progressFrom?: number;
  /** Where messages go (stderr by default). */
  log?: (line: string) => void;
  /** Check the tensors against a model config before writing (shape mismatches fail; missing/unexpected reported). */
  config?: string;
}

/** Integer and bool tensors keep an integer dtype; floats take the requested one. */
function keptDtype(stored: StoredDType | undefined): DType | undefined {
  switch (stored) {
    case 'int64': case 'uint64': case 'uint32': return 'int64';
    case 'int32': case 'uint16': return 'int32';
    case 'int16': case 'int8': case 'uint8': case 'bool': return stored;
    default: return undefined;
  }
}

function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

/**
 * Converts `input` to a canonical safetensors file `output` (written atomically: on any error the
 * destination is left untouched). Returns what was loaded.
 */
export async function convertCheckpoint(input: string, output: string, opts: ConvertOptions = {}): Promise<LoadedWeights> {
  if (!/\.safetensors$/i.test(output)) throw new UserError(`${output}: the output must be a .safetensors file`);
  const log = opts.log ?? ((l: string) => console.error(l));
  const from = opts.progressFrom ?? 64 * 1024 * 1024;
  const reading = byteProgress(`reading ${basename(input)}`, from);
  let loaded: LoadedWeights;
  try {
    loaded = await loadWeights(input, { from: opts.from, wrapper: opts.wrapper, onProgress: reading.update });
  } finally {
    reading.stop();
  }
  if (opts.config) {
    const net = mainNetwork(resolveConfig(opts.config));
    const { report } = bindWeights(net.registry, loaded.tensors, { allowMissing: true, source: input });
    log(`against config ${opts.config}: ${formatBindReport(report)}`);
    if (report.missing.length) log(`missing (would be initialised): ${report.missing.slice(0, 8).join(', ')}${report.missing.length > 8 ? ', ...' : ''}`);
  }
  const dtype = opts.dtype ?? 'float32';
  const dtypes = new Map<string, DType>();
  for (const [name, d] of loaded.dtypes) {
    const k = keptDtype(d);
    if (k) dtypes.set(name, k);
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    [CANONICAL_METADATA_KEY]: 'canonical',
    'convnext.source': loaded.source,
    'convnext.converted_from': basename(input),
  };
  if (loaded.wrapper) metadata['convnext.wrapper'] = loaded.wrapper;
  const writing = byteProgress(`writing ${basename(output)}`, from);
  try {
    await writeSafetensors(output, loaded.tensors, { dtype, dtypes, metadata, onProgress: writing.update });
  } finally {
    writing.stop();
  }
  let params = 0;
  let bytes = 0;
  for (const [name, t] of loaded.tensors) {
    params += t.data.length;
    const d = dtypes.get(name);
    bytes += t.data.length * (d === 'int64' ? 8 : d === 'int32' ? 4 : d === 'int16' ? 2 : d ? 1 : dtype === 'float16' ? 2 : 4);
  }
  const where = loaded.wrapper ? `, in '${loaded.wrapper}'` : '';
  log(`${input} (${loaded.source}${where}): ${loaded.tensors.size} tensors, ${params.toLocaleString('en-US')} parameters`);
  if (loaded.unmapped.length) {
    const shown = loaded.unmapped.slice(0, 8).join(', ');
    log(`left out ${loaded.unmapped.length} key(s) the ${loaded.source} layout does not map: ${shown}${loaded.unmapped.length > 8 ? ', ...' : ''}`);
  }
  if (loaded.skipped.length) log(`skipped ${loaded.skipped.length} non-tensor entr${loaded.skipped.length === 1 ? 'y' : 'ies'}: ${loaded.skipped.slice(0, 8).join(', ')}`);
  log(`wrote ${output} (${dtype}, ${size(bytes)} of tensor data)`);
  return loaded;
}

interface ConvertFlags {
  config?: string;
  from: 'auto' | CheckpointSource;
  dtype: 'float32' | 'float16';
  wrapper?: string;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description(DESCRIPTIONS['convert'])
    .argument('<in>', 'checkpoint to read')
    .argument('<out>', 'output .safetensors (written atomically)')
    .addOption(new Option('--from <layout>', 'key layout of the input').choices(['auto', ...CHECKPOINT_SOURCES]).default('auto'))
    .addOption(new Option('--dtype <dtype>', 'element type of float tensors in the output').choices(['float32', 'float16']).default('float32'))
    .option('-c, --config <name>', 'check the tensors against this model config first (shape mismatches fail, missing/unexpected keys listed)')
    .option('--verbose', 'show stack traces on errors')
    .option('--wrapper <key>', "top-level entry holding the state dict (e.g. 'model_ema'); default: the first known one")
    .action(async (input: string, output: string, f: ConvertFlags) => {
      await convertCheckpoint(input, output, { from: f.from === 'auto' ? undefined : f.from, dtype: f.dtype, wrapper: f.wrapper, config: f.config });
    });
}
