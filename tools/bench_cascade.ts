/**
 * Cascade Mask R-CNN ConvNeXt-T against Mask R-CNN ConvNeXt-T on the ort engine, alternating in one
 * process (`--threads` intra-op threads, thread spinning off), medians, at one input size
 * (default 800×1216). Random weights (seeded); the RCNN score threshold is lowered to 0.001 for
 * both so that each keeps its 100 detections and runs its mask head(s), as trained weights would.
 *
 *   npx tsx tools/bench_cascade.ts [--runs 8] [--threads 2] [--size 800x1216]
 */
import * as ort from 'onnxruntime-node';
import { alternate, median, peakRssMb } from '../src/core/bench.js';
import { sessionOptions } from '../src/core/ort/runner.js';
import { initWeights } from '../src/core/weights.js';
import type { DetectorConfig } from '../src/config/detector.js';
import { resolveConfig } from '../configs/index.js';
import { Detector } from '../src/tasks/detection/detector.js';
import { buildDetectorOnnx } from '../src/tasks/detection/detector-engine.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', '8'));
const THREADS = Number(opt('threads', '2'));
const [H, W] = opt('size', '800x1216').split('x').map(Number);

async function session(name: string): Promise<ort.InferenceSession> {
  const det = new Detector(resolveConfig(name, ['roi_head.test.score_thr=0.001']) as DetectorConfig);
  return ort.InferenceSession.create(buildDetectorOnnx(det, initWeights(det.scope.registry, 0)), sessionOptions({ threads: THREADS, spinning: false }));
}

const data = Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.001) + Math.cos((i % W) * 0.03));
const feeds = { input: new ort.Tensor('float32', data, [1, 3, H, W]), image_size: new ort.Tensor('float32', Float32Array.from([H, W]), [2]) };
const names = ['mask-rcnn_convnext-t_fpn_3x_coco', 'cascade-mask-rcnn_convnext-t_fpn_3x_coco'];
const sessions = await Promise.all(names.map(session));
const dets: number[] = [];
const times = await alternate(sessions.map((s, i) => async () => {
  const r = await s.run(feeds);
  dets[i] = r.dets.dims[0] as number;
}), RUNS, 1);
const [mask, cascade] = times.map(median);
console.log(`${H}×${W}, ${THREADS} threads, ${RUNS} alternating runs (medians):`);
console.log(`  Mask R-CNN ConvNeXt-T         ${mask.toFixed(0)} ms (${dets[0]} detections)`);
console.log(`  Cascade Mask R-CNN ConvNeXt-T ${cascade.toFixed(0)} ms (${dets[1]} detections)`);
console.log(`  ratio cascade / mask: ${(cascade / mask).toFixed(3)}; peak RSS ${peakRssMb().toFixed(0)} MB (both sessions)`);
for (const s of sessions) await s.release();
