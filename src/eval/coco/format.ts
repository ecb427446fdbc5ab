/** Text and JSON renderings of a {@link CocoEvalResult}, laid out as pycocotools prints them. */
import { textTable } from '../miou-format.js';
import { pyFixed } from '../numfmt.js';
import type { CocoEvalResult } from './cocoeval.js';

/** Names of the 12 summary numbers, in `stats` order. */
export const STAT_NAMES = [
  'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl',
] as const;

const LINES: { ap: boolean; iou?: number; area: string; md: number }[] = [
  { ap: true, area: 'all', md: 2 },
  { ap: true, iou: 0.5, area: 'all', md: 2 },
  { ap: true, iou: 0.75, area: 'all', md: 2 },
  { ap: true, area: 'small', md: 2 },
  { ap: true, area: 'medium', md: 2 },
  { ap: true, area: 'large', md: 2 },
  { ap: false, area: 'all', md: 0 },
  { ap: false, area: 'all', md: 1 },
  { ap: false, area: 'all', md: 2 },
  { ap: false, area: 'small', md: 2 },
  { ap: false, area: 'medium', md: 2 },
  { ap: false, area: 'large', md: 2 },
];

/**
 * The 12 lines of pycocotools' `summarize()`, e.g.
 * ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.462`.
 */
export function formatCocoSummary(res: CocoEvalResult): string {
  const p = res.params;
  const md = p.maxDets;
  return LINES.map((l, i) => {
    const title = (l.ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const type = l.ap ? '(AP)' : '(AR)';
    const iou = (l.iou === undefined
      ? `${pyFixed(p.iouThrs[0], 2)}:${pyFixed(p.iouThrs[p.iouThrs.length - 1], 2)}`
      : pyFixed(l.iou, 2)).padEnd(9);
    // stats[0] uses maxDets=100 whatever the parameters say, as pycocotools does.
    const maxDets = i === 0 ? 100 : (md[l.md] ?? md[md.length - 1]);
    return ` ${title} ${type} @[ IoU=${iou} | area=${l.area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${pyFixed(res.stats[i], 3)}`;
  }).join('\n');
}

/** Per-category AP table in mmdetection's `classwise` layout (fractions, 3 decimals, `nan` where undefined). */
export function formatCocoPerCategory(res: CocoEvalResult): string {
  const f = (v: number) => (v < 0 ? 'nan' : pyFixed(v, 3));
  const rows = res.perCategory.map((c) => [
    c.name, f(c.ap), f(c.ap50), f(c.ap75), f(c.apSmall), f(c.apMedium), f(c.apLarge),
  ]);
  return textTable(['category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'], rows);
}

/** JSON form: the 12 numbers by name, and per-category figures (−1 where undefined). */
export function cocoResultToJson(res: CocoEvalResult): {
  iouType: string;
  stats: Record<(typeof STAT_NAMES)[number], number>;
  perCategory: CocoEvalResult['perCategory'];
} {
  const stats = Object.fromEntries(STAT_NAMES.map((n, i) => [n, res.stats[i]])) as Record<
    (typeof STAT_NAMES)[number], number
  >;
  return { iouType: res.iouType, stats, perCategory: res.perCategory };
}
