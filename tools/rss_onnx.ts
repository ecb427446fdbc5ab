/**
 * Peak memory of one ONNX model on onnxruntime: builds the session, runs it a few times on a
 * fixed input and prints the process's peak RSS (one model per process, so files compare).
 *
 *   npx tsx tools/rss_onnx.ts model.onnx 1x3x800x1216 [runs=3] [threads=2]
 *
 * Extra inputs: a detector exported with image_size gets the input's height and width.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { peakRssMb } from '../src/core/bench.js';
import type { HostTensor } from '../src/core/host-tensor.js';
import { runSession, sessionOptions } from '../src/core/ort/runner.js';

const [file, shapeArg, runsArg = '3', threadsArg = '2'] = process.argv.slice(2);
if (!file || !shapeArg) throw new Error('usage: rss_onnx.ts model.onnx NxCxHxW [runs] [threads]');
const shape = shapeArg.split('x').map(Number);
const session = await ort.InferenceSession.create(readFileSync(file), sessionOptions({ threads: Number(threadsArg) }));
const input = { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.01)) };
const tables: Record<string, HostTensor> = session.inputNames.includes('image_size') ? { image_size: { shape: [2], data: Float32Array.of(shape[2], shape[3]) } } : {};
const t0 = performance.now();
for (let i = 0; i < Number(runsArg); i++) await runSession(session, input, tables);
console.log(`${file}: ${Number(runsArg)} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s, peak RSS ${peakRssMb().toFixed(0)} MB`);
await session.release();
