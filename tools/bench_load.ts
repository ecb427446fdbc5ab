/**
 * Load time and peak memory of `loadWeights` for a ConvNeXt-T-sized checkpoint (28.6M float32
 * parameters, ~115 MB) in safetensors, PyTorch zip and PyTorch legacy formats.
 *
 *   npx tsx tools/bench_load.ts [--rounds 3] [--keep DIR]
 *
 * Random weights with the canonical ConvNeXt-T names and shapes are written into a temporary
 * folder (the .pth files by tools/io-pth-writer.ts, which torch.load reads). Each load runs in a
 * fresh child process, so its peak RSS (getrusage maxrss) belongs to that load alone; the formats
 * alternate round by round and medians are reported.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { HostTensor } from '../src/core/host-tensor.js';
import { loadWeights } from '../src/io/load-weights.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { writeTorchLegacy, writeTorchZip } from './io-pth-writer.js';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);

/** ConvNeXt-T (official / canonical names): depths 3-3-9-3, dims 96-192-384-768, 1000 classes. */
function convnextTiny(): Map<string, HostTensor> {
  const depths = [3, 3, 9, 3];
  const dims = [96, 192, 384, 768];
  const shapes: Array<[string, number[]]> = [
    ['downsample_layers.0.0.weight', [96, 3, 4, 4]], ['downsample_layers.0.0.bias', [96]],
    ['downsample_layers.0.1.weight', [96]], ['downsample_layers.0.1.bias', [96]],
  ];
  for (let i = 1; i < 4; i++) {
    shapes.push([`downsample_layers.${i}.0.weight`, [dims[i - 1]]], [`downsample_layers.${i}.0.bias`, [dims[i - 1]]],
      [`downsample_layers.${i}.1.weight`, [dims[i], dims[i - 1], 2, 2]], [`downsample_layers.${i}.1.bias`, [dims[i]]]);
  }
  for (let i = 0; i < 4; i++) {
    const c = dims[i];
    for (let j = 0; j < depths[i]; j++) {
      const b = `stages.${i}.${j}.`;
      shapes.push([`${b}gamma`, [c]], [`${b}dwconv.weight`, [c, 1, 7, 7]], [`${b}dwconv.bias`, [c]],
        [`${b}norm.weight`, [c]], [`${b}norm.bias`, [c]], [`${b}pwconv1.weight`, [4 * c, c]], [`${b}pwconv1.bias`, [4 * c]],
        [`${b}pwconv2.weight`, [c, 4 * c]], [`${b}pwconv2.bias`, [c]]);
    }
  }
  shapes.push(['norm.weight', [768]], ['norm.bias', [768]], ['head.weight', [1000, 768]], ['head.bias', [1000]]);
  let s = 0x9e3779b9;
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      data[k] = ((s >>> 0) / 4294967296 - 0.5) * 0.04;
    }
    out.set(name, { shape, data });
  }
  return out;
}

interface ChildResult { ms: number; maxRssMB: number; baseRssMB: number; tensors: number; params: number }

/** Child mode: load one file, print timing and memory as JSON. */
async function child(file: string): Promise<void> {
  const baseRssMB = process.memoryUsage().rss / 1e6;
  const t0 = performance.now();
  const w = await loadWeights(file);
  const ms = performance.now() - t0;
  let params = 0;
  for (const t of w.tensors.values()) params += t.data.length;
  const maxRssMB = (process.resourceUsage().maxRSS * 1024) / 1e6;
  const r: ChildResult = { ms, maxRssMB, baseRssMB, tensors: w.tensors.size, params };
  process.stdout.write(JSON.stringify(r));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]);
  const rounds = Number(args[args.indexOf('--rounds') + 1]) || 3;
  const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : null;
  const dir = keep ?? await mkdtemp(join(tmpdir(), 'bench-load-'));
  try {
    const files: Array<[string, string]> = [
      ['safetensors', join(dir, 'convnext_tiny.safetensors')],
      ['pth zip', join(dir, 'convnext_tiny_zip.pth')],
      ['pth legacy', join(dir, 'convnext_tiny_legacy.pth')],
    ];
    {
      const w = convnextTiny();
      await writeSafetensors(files[0][1], w);
      await writeTorchZip(files[1][1], w);
      await writeTorchLegacy(files[2][1], w);
    }
    const results = new Map<string, ChildResult[]>(files.map(([k]) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...files].reverse() : files;
      for (const [kind, file] of order) {
        const { stdout } = await run(process.execPath, ['--import', 'tsx', SELF, '--child', file], { maxBuffer: 1 << 20 });
        results.get(kind)!.push(JSON.parse(stdout) as ChildResult);
      }
    }
    console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${rounds} rounds, one child process per load`);
    console.log('format        file MB  tensors   params      load ms (median)  MB/s   peak RSS MB  peak - start MB  (peak - start) / file');
    for (const [kind, file] of files) {
      const rs = results.get(kind)!;
      const size = (await stat(file)).size / 1e6;
      const ms = median(rs.map((x) => x.ms));
      const peak = median(rs.map((x) => x.maxRssMB));
      const inc = median(rs.map((x) => x.maxRssMB - x.baseRssMB));
      console.log(`${kind.padEnd(12)} ${size.toFixed(1).padStart(8)} ${String(rs[0].tensors).padStart(8)} ${rs[0].params.toLocaleString('en-US').padStart(11)}` +
        `  ${ms.toFixed(0).padStart(10)} (${rs.map((x) => x.ms.toFixed(0)).join('/')})`.padEnd(26) +
        `${(size / (ms / 1000)).toFixed(0).padStart(6)} ${peak.toFixed(0).padStart(12)} ${inc.toFixed(0).padStart(16)} ${(inc / size).toFixed(2).padStart(22)}`);
    }
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

await main();
