import { describe, expect, it } from 'vitest';
import { npRound, pyFixed, pyFloatStr, rint } from '../../src/eval/numfmt.js';
import { npMean, npSum } from '../../src/eval/npmath.js';

// Expected strings are what Python 3.11 / numpy 1.24 print for the same doubles.
describe('Python-compatible number formatting', () => {
  it("'{:0.3f}' breaks exact binary ties to even, unlike toFixed", () => {
    expect((0.0625).toFixed(3)).toBe('0.063'); // JavaScript
    expect(pyFixed(0.0625, 3)).toBe('0.062'); // Python
    expect(pyFixed(0.1875, 3)).toBe('0.188');
    expect(pyFixed(0.3125, 3)).toBe('0.312');
    expect(pyFixed(-1, 3)).toBe('-1.000');
    expect(pyFixed(0.4565, 3)).toBe('0.457'); // not an exact tie in binary
    expect(pyFixed(0.9995, 3)).toBe('1.000');
    expect(pyFixed(1 / 3, 3)).toBe('0.333');
    expect(pyFixed(0.5, 2)).toBe('0.50');
  });

  it('np.round(x, 2) = rint(x·100)/100 with ties to even', () => {
    expect(rint(2.5)).toBe(2);
    expect(rint(3.5)).toBe(4);
    expect(rint(-2.5)).toBe(-2);
    expect(npRound(72.725, 2)).toBe(72.72);
    expect(npRound(2.675, 2)).toBe(2.68);
    expect(npRound(56.665, 2)).toBe(56.66);
    expect(npRound(1.005, 2)).toBe(1);
  });

  it("str(float) keeps a '.0' on integral values", () => {
    expect(pyFloatStr(1)).toBe('1.0');
    expect(pyFloatStr(72.72)).toBe('72.72');
    expect(pyFloatStr(NaN)).toBe('nan');
  });

  it('np.sum / np.mean pairwise order', () => {
    expect(npSum([])).toBe(0);
    expect(npMean([])).toBeNaN();
    // 0.1 summed ten times: sequential gives 0.9999999999999999; numpy's 8-accumulator blocks
    // give ((0.2 + 0.2) + (0.2 + 0.2)) + ((0.1 + 0.1) + (0.1 + 0.1)) = 1 exactly.
    const tenths = new Array<number>(10).fill(0.1);
    expect(tenths.reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(npSum(tenths)).toBe(1);
  });
});
