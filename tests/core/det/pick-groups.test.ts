/**
 * argmaxColumns and pickGroups (a cascade stage's arg-max class and that class's deltas) on both
 * engines against values worked out by hand, including a table with no rows.
 */
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../../../src/core/engine.js';
import { runDet } from '../../heads/det-harness.js';

describe.each(ENGINES)('argmaxColumns and pickGroups on %s', (engine) => {
  it('pick each row\'s group of 4 columns by its arg-max (first on ties)', async () => {
    const scores = { shape: [3, 3], data: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0.1, -1, -3, 2]) };
    const deltas = { shape: [3, 12], data: Float32Array.from({ length: 36 }, (_, i) => i) };
    const out = await runDet(engine, { scores, deltas }, (ops, x) => {
      const label = ops.argmaxColumns(x.scores);
      return { label, picked: ops.pickGroups(x.deltas, label, 4) };
    });
    expect(Array.from(out.label.data)).toEqual([1, 0, 2]);
    expect(out.picked.shape).toEqual([3, 4]);
    // Row 0, group 1: columns 4..7; row 1, group 0: 12..15; row 2, group 2: 24 + 8 … 24 + 11.
    expect(Array.from(out.picked.data)).toEqual([4, 5, 6, 7, 12, 13, 14, 15, 32, 33, 34, 35]);
  });

  it('a table with no rows gives no rows', async () => {
    const out = await runDet(engine, { scores: { shape: [0, 3], data: new Float32Array(0) }, deltas: { shape: [0, 12], data: new Float32Array(0) } }, (ops, x) => {
      const label = ops.argmaxColumns(x.scores);
      return { label, picked: ops.pickGroups(x.deltas, label, 4) };
    });
    expect(out.label.shape).toEqual([0]);
    expect(out.picked.shape).toEqual([0, 4]);
  });
});
