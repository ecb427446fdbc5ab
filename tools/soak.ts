/**
 * Soak benchmark: RSS, JS heap and TensorFlow.js tensor count over many inferences of the bundled
 * demo detector and segmentor through the library API, on each engine in its own process.
 *
 *   npx tsx tools/soak.ts [--images 1000] [--engine ort|tfjs|both] [--task det|seg|both]
 *
 * Inputs cycle through the bundled sample images (assets/demo/shapes), each mirrored or not and
 * re-encoded, so decoding and pre-processing run every time. A line every 100 images; at the end
 * the RSS slope from image 500 on (least squares, MB per 100 images) and the tensor counts at the
 * first and last sample. Flat memory: slope ≤ 0.5 MB / 100 images and an unchanged tensor count.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const SELF = fileURLToPath(import.meta.url);
const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '1000' },
    engine: { type: 'string', default: 'both' },
    task: { type: 'string', default: 'both' },
    child: { type: 'boolean', default: false },
  },
});
const N = Number(args.images);

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

async function child(engine: 'ort' | 'tfjs', task: 'det' | 'seg'): Promise<void> {
  const { pipeline } = await import('../src/index.js');
  const dir = fileURLToPath(new URL('../assets/demo/shapes/', import.meta.url));
  const bases = readdirSync(dir).filter((f) => f.endsWith('.png')).map((f) => readFileSync(join(dir, f)));
  const inputs = await Promise.all(bases.flatMap((b) => [Promise.resolve(b), sharp(b).flop().png().toBuffer()]));
  const tf = engine === 'tfjs' ? await import('@tensorflow/tfjs-core') : null;
  const det = task === 'det' ? await pipeline('object-detection', { engine }) : null;
  const seg = task === 'seg' ? await pipeline('image-segmentation', { engine }) : null;
  const run = async (input: Buffer): Promise<unknown> => (det ? det(input) : seg!(input));
  const xs: number[] = [];
  const ys: number[] = [];
  const t0 = performance.now();
  let firstTensors = -1;
  let tensors = -1;
  for (let i = 1; i <= N; i++) {
    await run(inputs[i % inputs.length]);
    if (i % 100 === 0) {
      global.gc?.();
      const rss = process.memoryUsage().rss / 2 ** 20;
      const heap = process.memoryUsage().heapUsed / 2 ** 20;
      tensors = tf ? tf.memory().numTensors : -1;
      if (firstTensors < 0) firstTensors = tensors;
      if (i >= 500) { xs.push(i / 100); ys.push(rss); }
      const rate = i / ((performance.now() - t0) / 1000);
      console.log(`${engine} ${task} ${i}/${N}: rss ${rss.toFixed(1)} MB, heap ${heap.toFixed(1)} MB${tf ? `, tfjs tensors ${tensors}` : ''} (${rate.toFixed(1)} images/s)`);
    }
  }
  await det?.dispose();
  await seg?.dispose();
  const s = xs.length >= 2 ? slope(xs, ys) : NaN;
  console.log(`RESULT ${engine} ${task}: rss slope from image 500 ${s.toFixed(3)} MB per 100 images${tf ? `; tfjs tensors ${firstTensors} at image 100, ${tensors} at image ${N}` : ''}`);
}

if (args.child) {
  await child(args.engine as 'ort' | 'tfjs', args.task as 'det' | 'seg');
} else {
  const engines = args.engine === 'both' ? ['ort', 'tfjs'] : [args.engine];
  const tasks = args.task === 'both' ? ['det', 'seg'] : [args.task];
  console.log(`soak: ${N} images per run; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`);
  for (const task of tasks) {
    for (const engine of engines) {
      execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, '--child', '--engine', engine!, '--task', task!, '--images', String(N)], { stdio: 'inherit' });
    }
  }
}
