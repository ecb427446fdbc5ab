/**
 * `convnext demo`: the README's main command. Runs the bundled model on the bundled image through
 * both engines: features (p2…p5) and classification, checks that the engines agree, and writes
 * the results to an output folder.
 */
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner, ENGINES, type EngineName } from '../../core/engine.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { resolveConfig } from '../../config/resolve.js';
import { Classifier } from '../../tasks/classifier.js';
import { featureModel } from '../../tasks/features.js';
import { topK } from '../../tasks/topk.js';
import { classificationInput, readRgb } from '../../io/image.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { weightsFor } from '../common.js';

const ASSETS = fileURLToPath(new URL('../../../assets/demo/', import.meta.url));
const CONFIG = 'test_convnext-t-narrow_cls10';

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the bundled model on the bundled image with both engines (features + classification)')
    .option('-o, --out <dir>', 'output folder', 'convnext-demo')
    .option('--image <file>', 'another image instead of the bundled one')
    .option('--verbose', 'show stack traces on errors')
    .action(async (o: { out: string; image?: string }) => {
      const image = o.image ?? join(ASSETS, 'chelsea.jpg');
      const cfg = resolveConfig(CONFIG);
      if (cfg.type !== 'classifier') throw new Error('demo config must be a classifier');
      const classifier = new Classifier(cfg);
      const fm = featureModel(cfg);
      const weightsFile = join(ASSETS, 'convnext-t-narrow_cls10.safetensors');
      const weights = await weightsFor(classifier.network().registry, weightsFile, { quiet: true });
      const input = await classificationInput(await readRgb(image), cfg.input);
      console.log(`demo: ${image} -> ${CONFIG} (bundled random-weight model, see assets/demo/README.md)`);
      await mkdir(o.out, { recursive: true });
      const results: Record<EngineName, { features: Record<string, HostTensor>; logits: HostTensor; ms: number }> = {} as never;
      for (const engine of ENGINES) {
        const t0 = performance.now();
        const fr = await createRunner(engine, fm.network, weights, { log: (l) => console.log(l) });
        const cr = await createRunner(engine, classifier.network(), weights);
        const features = await fr.run(input);
        const { logits } = await cr.run(input);
        results[engine] = { features, logits, ms: performance.now() - t0 };
        await fr.dispose();
        await cr.dispose();
      }
      const ort = results.ort;
      for (const s of fm.specs) {
        const t = ort.features[s.name];
        console.log(`  ${s.name}: [${t.shape.join(', ')}] stride ${s.stride}, ort vs tfjs max |diff| ${maxAbsDiff(t, results.tfjs.features[s.name]).toExponential(1)}`);
      }
      const top = topK(ort.logits.data, 5).map(({ index, prob }) => ({ index, label: classifier.classNames[index], score: +prob.toFixed(4) }));
      console.log(`  top-5 (ort): ${top.map((t) => `${t.label} ${t.score}`).join(', ')}`);
      console.log(`  logits ort vs tfjs max |diff| ${maxAbsDiff(ort.logits, results.tfjs.logits).toExponential(1)}`);
      await writeSafetensors(join(o.out, 'features.safetensors'), new Map(Object.entries(ort.features)), { metadata: { config: CONFIG, image } });
      await writeFileAtomic(join(o.out, 'classification.json'), `${JSON.stringify({ image, config: CONFIG, topk: top }, null, 2)}\n`);
      console.log(`wrote ${join(o.out, 'features.safetensors')} and ${join(o.out, 'classification.json')}`);
    });
}
