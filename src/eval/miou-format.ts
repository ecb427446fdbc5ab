/**
 * Text and JSON renderings of {@link MIoUResult}, in the form mmsegmentation logs them:
 * percentages rounded with `np.round(x * 100, 2)`, a per-class table laid out like
 * PrettyTable, and a summary table.
 */
import type { MIoUResult } from './miou.js';
import { npRound, pyFloatStr } from './numfmt.js';

/** Centre `text` in `width` like PrettyTable (odd slack: extra space right for odd-length text). */
function centre(text: string, width: number): string {
  const excess = width - text.length;
  if (excess <= 0) return text;
  const half = Math.floor(excess / 2);
  if (excess % 2 === 0) return ' '.repeat(half) + text + ' '.repeat(half);
  return text.length % 2 === 1
    ? ' '.repeat(half) + text + ' '.repeat(half + 1)
    : ' '.repeat(half + 1) + text + ' '.repeat(half);
}

/** A PrettyTable-style text table (centred cells, `+---+` borders). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)) + 2);
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const line = (cells: readonly string[]) => `|${cells.map((c, j) => centre(c, widths[j])).join('|')}|`;
  return [rule, line(header), rule, ...rows.map(line), rule].join('\n');
}

/** Percentage rounded like mmseg (`np.round(x * 100, 2)`), NaN kept. */
export function pct(x: number): number {
  return npRound(x * 100, 2);
}

/** Per-class IoU / Acc table followed by the aAcc / mIoU / mAcc summary table. */
export function formatMIoU(result: MIoUResult): string {
  const rows = result.perClass.map((c, i) => [
    c.name ?? String(i),
    pyFloatStr(pct(c.iou)),
    pyFloatStr(pct(c.acc)),
  ]);
  const summary = [[result.aAcc, result.mIoU, result.mAcc].map((v) => pyFloatStr(pct(v)))];
  return [
    'per class results:',
    textTable(['Class', 'IoU', 'Acc'], rows),
    'Summary:',
    textTable(['aAcc', 'mIoU', 'mAcc'], summary),
  ].join('\n');
}

/** JSON form of an mIoU result: percentages rounded to 2 decimals; NaN becomes null. */
export interface MIoUJson {
  aAcc: number | null;
  mIoU: number | null;
  mAcc: number | null;
  perClass: { class: string; IoU: number | null; Acc: number | null }[];
}

function jsonPct(x: number): number | null {
  return Number.isNaN(x) ? null : pct(x);
}

/** The result as a JSON-ready object (percent, 2 decimals, NaN → null). */
export function mIoUToJson(result: MIoUResult): MIoUJson {
  return {
    aAcc: jsonPct(result.aAcc),
    mIoU: jsonPct(result.mIoU),
    mAcc: jsonPct(result.mAcc),
    perClass: result.perClass.map((c, i) => ({
      class: c.name ?? String(i),
      IoU: jsonPct(c.iou),
      Acc: jsonPct(c.acc),
    })),
  };
}
