/**
 * The heap-view Slice and SplitV kernels installed on the wasm backend (src/core/tfjs/wasm-slice.ts)
 * give exactly the values of the cpu backend's kernels: boxes of every rank up to 5, contiguous and
 * strided, float32 / int32 / bool, and splits along every axis; no tensors leak.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWasmSlice } from '../../../src/core/tfjs/wasm-slice.js';

/** A small deterministic generator for shapes and boxes. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  expect(installWasmSlice()).toBe(true);
});

describe('wasm heap-view Slice / SplitV', () => {
  it('match the cpu backend on random boxes and splits', async () => {
    const rand = lcg(3);
    const int = (n: number) => Math.floor(rand() * n);
    for (let trial = 0; trial < 60; trial++) {
      const rank = 1 + (trial % 5);
      const shape = Array.from({ length: rank }, () => 1 + int(6));
      const begin = shape.map((d) => int(d));
      const size = shape.map((d, i) => (trial % 3 === 0 ? d - begin[i] : 1 + int(d - begin[i])));
      const dtype = (['float32', 'int32', 'bool'] as const)[trial % 3];
      const n = shape.reduce((a, b) => a * b, 1);
      const values: number[] | boolean[] = dtype === 'bool'
        ? Array.from({ length: n }, (_, i) => i % 3 === 0)
        : Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i - 7 : i * 0.5 - 3));
      const axis = int(rank);
      const parts = [1 + int(shape[axis]), 0];
      parts[1] = shape[axis] - parts[0];
      const run = () => tf.tidy(() => {
        const x = tf.tensor(values, shape, dtype);
        return { slice: tf.slice(x, begin, size).arraySync(), split: (parts[1] > 0 ? tf.split(x, parts, axis) : [x]).map((t) => t.arraySync()) };
      });
      const want = await on('cpu', run);
      const before = await on('wasm', () => tf.memory().numTensors);
      const got = run();
      expect(tf.memory().numTensors).toBe(before);
      expect(got, `shape ${shape} begin ${begin} size ${size} ${dtype}; split ${parts} on axis ${axis}`).toEqual(want);
    }
  });
});
