/**
 * `convnext demo`: the README's main command. Runs the bundled demo models — a small ConvNeXt
 * Mask R-CNN and a small UPerNet that this project trained on synthetic shapes
 * (tools/train_demo.sh) — on the bundled sample images (or `--image`): instance and semantic
 * segmentation (the latter with the config's flip + multi-scale test-time augmentation) with
 * overlays and JSON. Then, briefly, the ConvNeXt feature / classification path
 * on both engines with their agreement.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { mkdir, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { assetPath } from '../../io/assets.js';
import { createRunner, ENGINES, type EngineName } from '../../core/engine.js';
import { UserError } from '../../core/errors.js';
import type { HostTensor } from '../../core/host-tensor.js';
import { resolveConfig } from '../../../configs/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { classificationInput, readRgb } from '../../io/image.js';
import { type RgbImage } from '../../image/rgb.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { Classifier } from '../../tasks/classification/classifier.js';
import { Detector } from '../../tasks/detection/detector.js';
import { renderOverlay } from '../../tasks/detection/detector-overlay.js';
import { DEFAULT_SCORE_THR, imageDetections } from '../../tasks/detection/detector-json.js';
import { featureModel } from '../../tasks/features.js';
import { Segmentor } from '../../tasks/segmentation/segmentor.js';
import { classShares } from '../../tasks/segmentation/segmentor-classes.js';
import { labelPng, overlayPng } from '../../tasks/segmentation/segmentor-output.js';
import { topK } from '../../tasks/classification/topk.js';
import { weightsFor } from '../common.js';
import { imageFiles, outputStems } from '../../io/image-files.js';
import { DESCRIPTIONS } from './descriptions.js';
import { writeDemoReport } from '../demo-report.js';
import { createSegmentorPredictor } from '../../tasks/segmentation/segmentor-engine.js';
import { createDetectorPredictor } from '../../tasks/detection/detector-engine.js';

const ASSETS = assetPath('demo');
const DET = { config: 'demo_mask-rcnn_convnext-synth', weights: 'mask-rcnn_convnext-synth.safetensors' };
const SEG = { config: 'demo_upernet_convnext-synth', weights: 'upernet_convnext-synth.safetensors' };
const CLS = { config: 'test_convnext-t-narrow_cls10', weights: 'convnext-t-narrow_cls10.safetensors', image: 'chelsea.jpg' };

interface DemoFlags {
  out: string;
  image?: string[];
  engine: EngineName;
  scoreThr: number;
}

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** The bundled sample images (assets/demo/shapes/*.png). */
async function sampleImages(): Promise<string[]> {
  const dir = join(ASSETS, 'shapes');
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, f));
}

/** Images that could not be read, by file, with why (listed at the end of the run). */
const failures = new Map<string, string>();

/**
 * Runs `each` on every image (read as RGB) with its output stem under `dir`; an image that cannot
 * be read is recorded in `failures` and skipped. Disposes the predictor at the end.
 */
async function perImage(files: readonly string[], dir: string, predictor: { dispose(): Promise<void> }, each: (file: string, img: RgbImage, stem: string, index: number) => Promise<unknown>): Promise<unknown[]> {
  await mkdir(dir, { recursive: true });
  const out: unknown[] = [];
  try {
    const stems = outputStems(files);
    for (const [i, file] of files.entries()) {
      let img: RgbImage;
      try {
        img = await readRgb(file);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        failures.set(file, e.message);
        continue;
      }
      out.push(await each(file, img, join(dir, stems[i]), i));
    }
  } finally {
    await predictor.dispose();
  }
  return out;
}

async function detection(files: readonly string[], f: DemoFlags): Promise<unknown[]> {
  const cfg = resolveConfig(DET.config);
  if (cfg.type !== 'mask_rcnn') throw new Error(`${DET.config} must be a detector`);
  const weights = await weightsFor(new Detector(cfg).scope.registry, join(ASSETS, DET.weights), { quiet: true });
  const predictor = await createDetectorPredictor(cfg, weights, f.engine, { log: (l) => console.log(l) });
  return perImage(files, join(f.out, 'detect'), predictor, async (file, img, stem, i) => {
    const r = await predictor.predict(img, { scoreThr: f.scoreThr });
    const { instances } = imageDetections(file, r, i + 1, { cocoClasses: false });
    await writeFileAtomic(`${stem}.png`, await renderOverlay(img, r));
    await writeFileAtomic(`${stem}.json`, JSON.stringify({ image: file, width: r.width, height: r.height, instances }));
    console.log(`  detect  ${basename(file)}: ${instances.map((i) => `${i.class_name} ${i.score.toFixed(2)}`).join(', ') || 'nothing'}`);
    return { image: file, overlay: `${stem}.png`, json: `${stem}.json`, instances: instances.length };
  });
}

async function segmentation(files: readonly string[], f: DemoFlags): Promise<unknown[]> {
  const cfg = resolveConfig(SEG.config);
  if (cfg.type !== 'segmentor') throw new Error(`${SEG.config} must be a segmentor`);
  const model = new Segmentor(cfg);
  const weights = await weightsFor(model.scope.registry, join(ASSETS, SEG.weights), { quiet: true });
  const predictor = await createSegmentorPredictor(model, weights, f.engine);
  return perImage(files, join(f.out, 'segment'), predictor, async (file, img, stem) => {
    const pred = await predictor.predict(img, { tta: true });
    const classes = classShares(pred.labels, model.classNames);
    await writeFileAtomic(`${stem}.labels.png`, labelPng(pred.labels));
    await writeFileAtomic(`${stem}.overlay.png`, await overlayPng(img, pred.labels, model.palette, 0.5, model.classNames));
    await writeFileAtomic(`${stem}.json`, `${JSON.stringify({ image: file, width: img.width, height: img.height, config: SEG.config, tta: cfg.tta, classes }, null, 2)}\n`);
    console.log(`  segment ${basename(file)}: ${classes.map((c) => `${c.name} ${(c.fraction * 100).toFixed(1)}%`).join(', ')}`);
    return { image: file, overlay: `${stem}.overlay.png`, labels: `${stem}.labels.png`, json: `${stem}.json` };
  });
}

/** Features and classification of the narrow ConvNeXt on both engines (random weights: a pipeline check). */
async function classification(f: DemoFlags): Promise<Record<string, unknown>> {
  const cfg = resolveConfig(CLS.config);
  if (cfg.type !== 'classifier') throw new Error(`${CLS.config} must be a classifier`);
  const classifier = new Classifier(cfg);
  const fm = featureModel(cfg);
  const weights = await weightsFor(classifier.network().registry, join(ASSETS, CLS.weights), { quiet: true });
  const image = join(ASSETS, CLS.image);
  const input = await classificationInput(await readRgb(image), cfg.input);
  const res = {} as Record<EngineName, { features: Record<string, HostTensor>; logits: HostTensor }>;
  for (const engine of ENGINES) {
    const fr = await createRunner(engine, fm.network, weights, { inputShape: input.shape });
    const cr = await createRunner(engine, classifier.network(), weights, { inputShape: input.shape });
    res[engine] = { features: await fr.run(input), logits: (await cr.run(input)).logits };
    await fr.dispose();
    await cr.dispose();
  }
  const featDiff = Math.max(...fm.specs.map((s) => maxAbsDiff(res.ort.features[s.name], res.tfjs.features[s.name])));
  const logitDiff = maxAbsDiff(res.ort.logits, res.tfjs.logits);
  const top = topK(res.ort.logits.data, 5).map(({ index, prob }) => ({ index, label: classifier.classNames[index], score: +prob.toFixed(4) }));
  await writeSafetensors(join(f.out, 'features.safetensors'), new Map(Object.entries(res.ort.features)), { metadata: { config: CLS.config, image } });
  await writeFileAtomic(join(f.out, 'classification.json'), `${JSON.stringify({ image, config: CLS.config, topk: top }, null, 2)}\n`);
  console.log(`  features ${fm.specs.map((s) => s.name).join(' ')} and logits of ${CLS.image} (random-weight ${CLS.config}): ort vs tfjs max |diff| ${featDiff.toExponential(1)} / ${logitDiff.toExponential(1)}`);
  return { image, features: join(f.out, 'features.safetensors'), classification: join(f.out, 'classification.json'), ort_vs_tfjs: { features: featDiff, logits: logitDiff } };
}

function parseScore(v: string): number {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new UserError(`--score-thr expects a number in [0, 1], got '${v}'`);
  return x;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(DESCRIPTIONS['demo'])
    .option('-o, --out <dir>', 'output folder', 'convnext-demo')
    .option('--image <paths...>', 'images and/or folders of images instead of the bundled samples')
    .addOption(new Option('-e, --engine <engine>', 'engine for detection and segmentation').choices([...ENGINES]).default('ort'))
    .option('--score-thr <x>', 'keep detections scoring at least this', parseScore, DEFAULT_SCORE_THR)
    .option('--verbose', 'show stack traces on errors')
    .action(async (f: DemoFlags) => {
      const files = f.image ? imageFiles(f.image) : await sampleImages();
      await mkdir(f.out, { recursive: true });
      console.log(`demo: ${files.length} image(s) -> ${f.out} (models: assets/demo/README.md)`);
      const detect = await detection(files, f);
      const segment = await segmentation(files, f);
      const features = await classification(f);
      await writeFileAtomic(join(f.out, 'demo.json'), `${JSON.stringify({ engine: f.engine, detect, segment, features }, null, 2)}\n`);
      await writeDemoReport(f.out, files, outputStems(files));
      console.log(`wrote ${join(f.out, 'index.html')} and index.png (to look at), ${join(f.out, 'detect')}/, ${join(f.out, 'segment')}/, features.safetensors, classification.json and demo.json`);
      if (failures.size > 0) {
        for (const [file, error] of failures) console.error(`failed: ${error.startsWith(file) ? error : `${file}: ${error}`}`);
        throw new UserError(`${failures.size} image(s) could not be read (listed above); the others were written to ${f.out}`);
      }
    });
}
