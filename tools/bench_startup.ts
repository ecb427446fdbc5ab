/**
 * CLI start-up, end to end as a user sees it (a fresh node process each time, compiled CLI):
 * `convnext --help`, `convnext configs`, and `convnext classify` of one 224² image with ConvNeXt-T
 * (random weights written to a temporary safetensors file first) and with the bundled narrow
 * ConvNeXt at 224 (ort, 2 threads).
 * Alternating runs, medians. Build first (`npm run build`).
 *
 *   npx tsx tools/bench_startup.ts [--runs 10]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { alternate, median } from '../src/core/bench.js';
import { initWeights } from '../src/core/weights.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { Classifier } from '../src/tasks/classification/classifier.js';
import { resolveConfig } from '../configs/index.js';

const args = process.argv.slice(2);
const i = args.indexOf('--runs');
const RUNS = i >= 0 ? Number(args[i + 1]) : 10;
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'convnext.js');
const tmp = mkdtempSync(join(tmpdir(), 'convnext-startup-'));
const image = join(tmp, 'in.jpg');
await sharp(join(ROOT, 'assets', 'demo', 'chelsea.jpg')).resize(224, 224, { fit: 'fill' }).jpeg().toFile(image);

const tiny = resolveConfig('convnext-t_in1k');
if (tiny.type !== 'classifier') throw new Error('convnext-t_in1k is a classifier');
const tinyWeights = join(tmp, 'convnext_t.safetensors');
await writeSafetensors(tinyWeights, initWeights(new Classifier(tiny).network().registry, 0));

const run = (argv: string[]) => async () => {
  execFileSync(process.execPath, [BIN, ...argv], { stdio: 'ignore' });
};
const cases: Array<[string, string[]]> = [
  ['convnext --help', ['--help']],
  ['convnext configs', ['configs']],
  ['convnext classify ConvNeXt-T (224², ort, 2 threads)', ['classify', '-c', 'convnext-t_in1k', '-w', tinyWeights, '--image', image, '--threads', '2']],
  ['convnext classify narrow demo net (224², ort, 2 threads)', ['classify', '-c', 'test_convnext-t-narrow_cls10', '--set', 'input.crop=224', '--set', 'input.resize=256', '-w', join(ROOT, 'assets', 'demo', 'convnext-t-narrow_cls10.safetensors'), '--image', image, '--threads', '2']],
];
const times = await alternate(cases.map(([, a]) => run(a)), RUNS, 1);
console.log(`CLI start-up, ${RUNS} alternating runs (medians, wall clock of a fresh process):`);
cases.forEach(([name], k) => console.log(`  ${name.padEnd(58)} ${median(times[k]).toFixed(0)} ms`));
rmSync(tmp, { recursive: true, force: true });
