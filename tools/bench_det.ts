/**
 * Mask R-CNN ConvNeXt-T benchmark on the ort engine against the anchor: torchvision's MaskRCNN
 * with the same weights, exported to ONNX opset 11 by tools/export_tv_maskrcnn.py, run in
 * onnxruntime-node. The contenders alternate in one process, each with `--threads` intra-op
 * threads and thread spinning off (README, Benchmarks); medians are reported.
 *
 *   /usr/bin/python3 tools/export_tv_maskrcnn.py .work/bench
 *   npx tsx tools/bench_det.ts --dir .work/bench [--runs 5] [--threads 2] [--mode compare|stages|rss|rss-anchor] [--anchor FILE]
 *
 * compare: whole detector, ours (torchvision conventions: the same function as the anchor; and
 *          mmdetection conventions, the ConvNeXt config) vs the anchor, with a parity check;
 * stages:  our detector split into backbone, FPN, RPN + proposals, RoI box head + NMS, mask
 *          head, paste (host), each a graph fed the previous stage's outputs;
 * rss:     peak RSS of a process that only builds and runs our detector (rss-anchor: the anchor).
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { alternate, median, peakRssMb } from '../src/core/bench.js';
import type { HostTensor } from '../src/core/host-tensor.js';
import { GraphBuilder, type Sym } from '../src/core/ort/graph.js';
import { OrtDetOps } from '../src/core/ort/det-ops.js';
import { sessionOptions } from '../src/core/ort/runner.js';
import { bindWeights, type WeightMap } from '../src/core/weights.js';
import type { DetectorConfig } from '../src/config/detector.js';
import { resolveConfig } from '../configs/index.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { Detector } from '../src/tasks/detection/detector.js';
import { pasteMask } from '../src/core/det/paste.js';
import { buildDetectorOnnx } from '../src/tasks/detection/detector-engine.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DIR = opt('dir', '.work/bench');
const RUNS = Number(opt('runs', '5'));
const THREADS = Number(opt('threads', '2'));
const MODE = opt('mode', 'compare');
/** The anchor's file in --dir (tv_maskrcnn_convnext_t_nopaste.onnx: the same without the mask paste loop). */
const ANCHOR = opt('anchor', 'tv_maskrcnn_convnext_t.onnx');
const so = () => sessionOptions({ threads: THREADS, spinning: false });

/** torchvision-layout weights (background first, with background deltas/mask) → mmdetection layout. */
function toMmdetLayout(w: Map<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map(w);
  const rows = (t: HostTensor, order: number[]): HostTensor => {
    const k = t.data.length / t.shape[0];
    const data = new Float32Array(order.length * k);
    order.forEach((r, i) => data.set(t.data.subarray(r * k, (r + 1) * k), i * k));
    return { shape: [order.length, ...t.shape.slice(1)], data };
  };
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  for (const p of ['weight', 'bias']) {
    const cls = w.get(`roi_head.bbox_head.fc_cls.${p}`)!;
    out.set(`roi_head.bbox_head.fc_cls.${p}`, rows(cls, [...range(1, cls.shape[0]), 0]));
    const reg = w.get(`roi_head.bbox_head.fc_reg.${p}`)!;
    out.set(`roi_head.bbox_head.fc_reg.${p}`, rows(reg, range(4, reg.shape[0])));
    const logits = w.get(`roi_head.mask_head.conv_logits.${p}`)!;
    out.set(`roi_head.mask_head.conv_logits.${p}`, rows(logits, range(1, logits.shape[0])));
  }
  return out;
}

function detector(name: string, src: Map<string, HostTensor>): { det: Detector; weights: WeightMap } {
  const det = new Detector(resolveConfig(name) as DetectorConfig);
  // The export keeps torchvision's class layout; both configs read the canonical one.
  const layout = toMmdetLayout(src);
  // The mmdetection config reads norm0…norm3 outputs, which torchvision's body lacks: initialised (identity affine).
  const { weights, report } = bindWeights(det.scope.registry, layout, { allowMissing: true });
  if (report.missing.length) console.error(`${name}: ${report.missing.length} parameters initialised (${report.missing.slice(0, 4).join(', ')}, …)`);
  return { det, weights };
}

const tensor = (t: HostTensor) => new ort.Tensor('float32', t.data, t.shape);

async function main(): Promise<void> {
  const { tensors: src } = await readSafetensors(join(DIR, 'tv_maskrcnn_convnext_t.safetensors'));
  const { tensors: io } = await readSafetensors(join(DIR, 'tv_maskrcnn_input.safetensors'));
  const image = io.get('image')!;
  const input = io.get('input')!;
  const [, , h, w] = input.shape;
  const size = new ort.Tensor('float32', Float32Array.from([h, w]), [2]);
  console.log(`Mask R-CNN ConvNeXt-T at ${h}x${w}, onnxruntime-node ${ort.env.versions.common}, ${THREADS} intra-op threads, spinning off, ${RUNS} runs`);

  if (MODE === 'rss') {
    const { det, weights } = detector('mask-rcnn_convnext-t_fpn_torchvision_coco', src);
    const s = await ort.InferenceSession.create(buildDetectorOnnx(det, weights), so());
    for (let i = 0; i < 2; i++) await s.run({ input: tensor(input), image_size: size });
    console.log(`peak RSS (ours only, weights + session + 2 runs): ${peakRssMb().toFixed(0)} MB`);
    return;
  }

  if (MODE === 'rss-anchor') {
    const s = await ort.InferenceSession.create(join(DIR, 'tv_maskrcnn_convnext_t.onnx'), so());
    for (let i = 0; i < 2; i++) await s.run({ image: tensor(image) });
    console.log(`peak RSS (anchor only, session + 2 runs): ${peakRssMb().toFixed(0)} MB`);
    return;
  }

  if (MODE === 'stages') {
    await stages(src, input, size);
    return;
  }

  const tv = await ort.InferenceSession.create(join(DIR, ANCHOR), so());
  console.log(`anchor: ${ANCHOR}`);
  const ours = [];
  for (const name of ['mask-rcnn_convnext-t_fpn_torchvision_coco', 'mask-rcnn_convnext-t_fpn_3x_coco']) {
    const { det, weights } = detector(name, src);
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(buildDetectorOnnx(det, weights), so());
    console.log(`${name}: graph built and session created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    ours.push({ name, det, session });
  }
  // Parity at full size: our torchvision-convention detector against the anchor's detections.
  const ref = await tv.run({ image: tensor(image) });
  const mine = await ours[0].session.run({ input: tensor(input), image_size: size });
  const d = ref.boxes.dims[0] as number;
  const dets = mine.dets.data as Float32Array;
  let boxErr = 0;
  let scoreErr = 0;
  let labelsEqual = 0;
  for (let i = 0; i < Math.min(d, mine.dets.dims[0] as number); i++) {
    for (let k = 0; k < 4; k++) boxErr = Math.max(boxErr, Math.abs(dets[6 * i + k] - (ref.boxes.data as Float32Array)[4 * i + k]));
    scoreErr = Math.max(scoreErr, Math.abs(dets[6 * i + 4] - (ref.scores.data as Float32Array)[i]));
    labelsEqual += Number(dets[6 * i + 5] + 1 === Number((ref.labels.data as BigInt64Array)[i]));
  }
  console.log(`parity vs anchor: ${mine.dets.dims[0]} vs ${d} detections, ${labelsEqual} labels equal, max box err ${boxErr.toExponential(2)} px, max score err ${scoreErr.toExponential(2)}`);

  const contenders = [
    () => tv.run({ image: tensor(image) }),
    ...ours.map((o) => () => o.session.run({ input: tensor(input), image_size: size })),
  ];
  const times = await alternate(contenders, RUNS, 1);
  const anchor = median(times[0]);
  console.log(`anchor (torchvision export, opset 11): median ${(anchor / 1000).toFixed(2)} s  [${times[0].map((t) => (t / 1000).toFixed(2)).join(', ')}]`);
  ours.forEach((o, i) => {
    const m = median(times[i + 1]);
    // Per-round ratios pair each run with the anchor's run of the same round (same machine load).
    const paired = median(times[i + 1].map((t, r) => t / times[0][r]));
    console.log(`${o.name}: median ${(m / 1000).toFixed(2)} s  [${times[i + 1].map((t) => (t / 1000).toFixed(2)).join(', ')}]  ratio of medians ${(m / anchor).toFixed(3)}, median per-round ratio ${paired.toFixed(3)}`);
  });
  console.log(`peak RSS of this process (three sessions): ${peakRssMb().toFixed(0)} MB`);
}

/** Our detector split into stage graphs, each fed the previous stage's outputs; medians per stage. */
async function stages(src: Map<string, HostTensor>, input: HostTensor, size: ort.Tensor): Promise<void> {
  const { det, weights } = detector('mask-rcnn_convnext-t_fpn_3x_coco', src);
  const pyr = det.neck.outSpecs;
  const bb = det.backboneSpecs;
  const [, , h, w] = input.shape;
  const graph = async (inputs: Array<[string, Array<number | string>]>, body: (ops: OrtDetOps, x: Record<string, Sym>) => Record<string, Sym>) => {
    const g = new GraphBuilder();
    const x = Object.fromEntries(inputs.map(([n, dims]) => [n, g.input(n, dims)]));
    const ops = new OrtDetOps(g, weights);
    const outs = body(ops, x);
    for (const [k, v] of Object.entries(outs)) g.output(k, ops.materialize(v));
    return ort.InferenceSession.create(g.toBytes(), so());
  };
  const fm = (name: string, c: number): [string, Array<number | string>] => [name, [1, c, `${name}_h`, `${name}_w`]];
  const s1 = await graph([['input', [1, 3, 'h', 'w']]], (ops, x) => det.backboneForward(ops, x.input));
  const s2 = await graph(bb.map((s) => fm(s.name, s.channels)), (ops, x) => Object.fromEntries(det.neckForward(ops, x).map((v, i) => [`q${i}`, v])));
  const qIn = pyr.map((s, i) => fm(`q${i}`, s.channels));
  const s3 = await graph([...qIn, ['input', [1, 3, 'h', 'w']], ['image_size', [2]]], (ops, x) => {
    const p = det.rpnForward(ops, pyr.map((_, i) => x[`q${i}`]), x.input, x.image_size);
    return { proposals: p.boxes };
  });
  const s4 = await graph([...qIn.slice(0, 4), ['proposals', ['p', 4]], ['image_size', [2]]], (ops, x) => {
    const d = det.roiHead.detect(ops, [0, 1, 2, 3].map((i) => x[`q${i}`]), x.proposals, x.image_size);
    return { boxes: d.boxes, scores: d.scores, labels: d.labels };
  });
  const s5 = await graph([...qIn.slice(0, 4), ['boxes', ['d', 4]], ['labels', ['d']]], (ops, x) => ({
    masks: det.roiHead.segment(ops, [0, 1, 2, 3].map((i) => x[`q${i}`]), x.boxes, x.labels),
  }));
  const names = ['backbone', 'FPN', 'RPN + proposals', 'RoI box head + NMS', 'mask head', 'paste (host)'];
  const times: number[][] = names.map(() => []);
  let count = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    const t: number[] = [];
    let t0 = performance.now();
    const lap = () => {
      const now = performance.now();
      t.push(now - t0);
      t0 = now;
    };
    const o1 = await s1.run({ input: tensor(input) });
    lap();
    const o2 = await s2.run(o1);
    lap();
    const q = Object.fromEntries(Object.entries(o2));
    const o3 = await s3.run({ ...q, input: tensor(input), image_size: size });
    lap();
    const q4 = Object.fromEntries(Object.entries(o2).filter(([k]) => Number(k.slice(1)) < 4));
    const o4 = await s4.run({ ...q4, proposals: o3.proposals, image_size: size });
    lap();
    const o5 = await s5.run({ ...q4, boxes: o4.boxes, labels: o4.labels });
    lap();
    const masks = o5.masks.data as Float32Array;
    const boxes = o4.boxes.data as Float32Array;
    count = o4.boxes.dims[0] as number;
    for (let i = 0; i < count; i++) pasteMask('grid_sample', masks.subarray(784 * i, 784 * (i + 1)), 28, Array.from(boxes.subarray(4 * i, 4 * i + 4)), h, w, 0.5);
    lap();
    if (r > 0) t.forEach((v, i) => times[i].push(v));
  }
  console.log(`stages of mask-rcnn_convnext-t_fpn_3x_coco (${count} detections), medians of ${RUNS} runs:`);
  names.forEach((n, i) => console.log(`  ${n.padEnd(20)} ${median(times[i]).toFixed(0).padStart(6)} ms`));
  console.log(`  ${'total'.padEnd(20)} ${times.reduce((a, ts) => a + median(ts), 0).toFixed(0).padStart(6)} ms`);
}

await main();
