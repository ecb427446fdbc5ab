/**
 * COCO detection / instance-segmentation evaluation with pycocotools' `COCOeval` semantics
 * (iouType 'bbox' and 'segm'):
 *
 * - images and categories: all of the ground truth, sorted by id; detections and ground truth
 *   grouped per (image, category) in file order;
 * - ground truth with `iscrowd` is ignored and matches any number of detections, with
 *   IoU = intersection / detection area; ground truth outside the area range is ignored
 *   (by its annotated `area`), and so are unmatched detections outside it;
 * - per image and category, detections in descending score order (stable) take the best
 *   still-free ground truth with IoU ≥ threshold, preferring non-ignored ground truth
 *   (`evaluateImg`); at most maxDets[-1] detections per image and category are kept;
 * - `accumulate`: detections of all images sorted by score (stable), precision made monotone
 *   from the right, read at 101 recall thresholds with `searchsorted(side='left')`;
 * - `summarize`: the 12 standard numbers, each the mean of the entries > −1, −1 if none.
 *
 * pycocotools marks an unmatched detection with the matched ground truth's id 0; a ground
 * truth whose id is 0 therefore never counts as matched there, and we keep that behaviour.
 */
import { UserError } from '../../core/errors.js';
import { npMean } from '../npmath.js';
import { bboxIou, rleIou, type Rle, type TraceBudget } from '../../io/coco/rle.js';
import { segmentationToRle } from '../../io/coco/segm.js';
import { limits } from '../../core/limits.js';
import type { CocoAnnotation, CocoDataset, CocoDetection } from '../../io/coco/types.js';

/** What overlap the IoU is computed on. */
export type IouType = 'bbox' | 'segm';

/** Evaluation parameters (pycocotools `Params` for detection). */
export interface CocoEvalParams {
  iouThrs: number[];
  recThrs: number[];
  maxDets: number[];
  areaRng: [number, number][];
  areaRngLbl: string[];
  /** Images to evaluate (default: all ground-truth images). */
  imgIds?: number[];
  /** Categories to evaluate (default: all ground-truth categories). */
  catIds?: number[];
}

/** `np.linspace(start, stop, num)` with numpy's float steps (i·step + start, last = stop). */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** pycocotools' default detection parameters. */
export function defaultParams(): CocoEvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0, 1, Math.round(1 / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRng: [[0, 1e5 ** 2], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]],
    areaRngLbl: ['all', 'small', 'medium', 'large'],
  };
}

/** AP figures of one category (all = IoU .50:.95, area all, 100 detections; −1 = undefined). */
export interface CategoryResult {
  id: number;
  name: string;
  ap: number;
  ap50: number;
  ap75: number;
  apSmall: number;
  apMedium: number;
  apLarge: number;
  ar100: number;
}

/** Output of {@link evaluateCoco}. */
export interface CocoEvalResult {
  iouType: IouType;
  params: CocoEvalParams;
  /** AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (−1 where undefined). */
  stats: number[];
  /** [T, R, K, A, M] */
  counts: [number, number, number, number, number];
  /** precision[t][r][k][a][m], row-major; −1 where a category has no ground truth. */
  precision: Float64Array;
  /** recall[t][k][a][m], row-major. */
  recall: Float64Array;
  /** Per-category results, in category-id order. */
  perCategory: CategoryResult[];
}

interface GtItem {
  id: number;
  area: number;
  iscrowd: number;
  box: ArrayLike<number>;
  rle?: Rle;
}

interface DtItem {
  id: number;
  area: number;
  score: number;
  box: ArrayLike<number>;
  rle?: Rle;
}

/** `evaluateImg` output for one image, category and area range. */
interface EvalImg {
  D: number;
  G: number;
  dtScores: number[];
  /** [T × D] matched ground-truth id, 0 = none. */
  dtMatches: number[];
  /** [T × D] 0/1 */
  dtIgnore: number[];
  /** [G] 0/1 after sorting */
  gtIgnore: number[];
}

/** Stable descending-score order, truncated to `max` (numpy mergesort of −score). */
function byScore(dts: DtItem[], max: number): DtItem[] {
  const order = dts.map((_, i) => i).sort((i, j) => dts[j].score - dts[i].score);
  return order.slice(0, max).map((i) => dts[i]);
}

function evaluateImg(
  gt: GtItem[], dt: DtItem[], ious: Float64Array[] | null, aRng: [number, number], maxDet: number,
  iouThrs: readonly number[],
): EvalImg | null {
  if (gt.length === 0 && dt.length === 0) return null;
  const ign = gt.map((g) => (g.iscrowd || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
  // Stable sort: non-ignored ground truth first.
  const gtind = gt.map((_, i) => i).sort((i, j) => ign[i] - ign[j]);
  const gs = gtind.map((i) => gt[i]);
  const ds = byScore(dt, maxDet);
  const T = iouThrs.length;
  const G = gs.length;
  const D = ds.length;
  // (plain arrays: this runs once per image, category and area range, and many small typed
  // arrays cost far more in garbage collection)
  const gtm = new Array<number>(T * G).fill(0);
  const dtm = new Array<number>(T * D).fill(0);
  const gtIg = gtind.map((i) => ign[i]);
  const dtIg = new Array<number>(T * D).fill(0);
  if (ious) {
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        let iou = Math.min(iouThrs[t], 1 - 1e-10);
        let m = -1;
        const row = ious[d];
        for (let gi = 0; gi < G; gi++) {
          // already matched and not a crowd: skip
          if (gtm[t * G + gi] > 0 && !gs[gi].iscrowd) continue;
          // matched to a regular ground truth, and reached the ignored ones: stop
          if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break;
          const v = row[gtind[gi]];
          if (v < iou) continue;
          iou = v;
          m = gi;
        }
        if (m === -1) continue;
        dtIg[t * D + d] = gtIg[m];
        dtm[t * D + d] = gs[m].id;
        gtm[t * G + m] = ds[d].id;
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (let d = 0; d < D; d++) {
    const out = ds[d].area < aRng[0] || ds[d].area > aRng[1];
    if (!out) continue;
    for (let t = 0; t < T; t++) if (dtm[t * D + d] === 0) dtIg[t * D + d] = 1;
  }
  return { D, G, dtScores: ds.map((d) => d.score), dtMatches: dtm, dtIgnore: dtIg, gtIgnore: gtIg };
}

function toRle(
  segm: CocoAnnotation['segmentation'], h: number, w: number, where: string, budget: TraceBudget,
): Rle {
  if (segm === undefined) throw new UserError(`${where}.segmentation: missing (needed for segm evaluation)`);
  try {
    return segmentationToRle(segm, h, w, budget);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${where}.segmentation: ${e.message}`);
    throw e;
  }
}

/**
 * Evaluates detections against a COCO ground truth like pycocotools'
 * `COCOeval(gt, dt, iouType); evaluate(); accumulate(); summarize()`.
 * `dets` come from {@link prepareDetections} (pycocotools' `loadRes`).
 */
export function evaluateCoco(
  gtData: CocoDataset, dets: readonly CocoDetection[], iouType: IouType, params: CocoEvalParams = defaultParams(),
): CocoEvalResult {
  const p = params;
  const imgIds = [...new Set(p.imgIds ?? gtData.images.map((im) => im.id))].sort((a, b) => a - b);
  const catIds = [...new Set(p.catIds ?? gtData.categories.map((c) => c.id))].sort((a, b) => a - b);
  const maxDets = [...p.maxDets].sort((a, b) => a - b);
  const maxDet = maxDets[maxDets.length - 1];
  const images = new Map(gtData.images.map((im) => [im.id, im]));
  const imgIndex = new Map(imgIds.map((id, i) => [id, i]));
  const catIndex = new Map(catIds.map((id, k) => [id, k]));
  const I = imgIds.length;
  const K = catIds.length;

  // _prepare: group per (category, image), file order.
  const gts: GtItem[][] = Array.from({ length: K * I }, () => []);
  const gtBudget: TraceBudget = { left: limits().coco_polygon_points };
  const dtBudget: TraceBudget = { left: limits().coco_polygon_points };
  const dts: DtItem[][] = Array.from({ length: K * I }, () => []);
  gtData.annotations.forEach((a, n) => {
    const i = imgIndex.get(a.image_id);
    const k = catIndex.get(a.category_id);
    if (i === undefined || k === undefined) return;
    const im = images.get(a.image_id);
    if (!im) return;
    const rle = iouType === 'segm' ? toRle(a.segmentation, im.height, im.width, `${gtData.file}: annotations[${n}]`, gtBudget) : undefined;
    gts[k * I + i].push({ id: a.id, area: a.area, iscrowd: a.iscrowd ? 1 : 0, box: a.bbox, rle });
  });
  dets.forEach((d, n) => {
    const i = imgIndex.get(d.image_id);
    const k = catIndex.get(d.category_id);
    if (i === undefined || k === undefined) return;
    const im = images.get(d.image_id);
    if (!im) return;
    const rle = iouType === 'segm' ? toRle(d.segmentation, im.height, im.width, `results: [${n}]`, dtBudget) : undefined;
    dts[k * I + i].push({ id: d.id, area: d.area, score: d.score, box: d.bbox, rle });
  });

  // evaluate + accumulate, one category at a time (accumulate only reads that category's
  // per-image results, so they need not all be held at once).
  const A = p.areaRng.length;
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const M = maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    // evaluateImg results per area range, images in id order, empty pairs left out
    const E: EvalImg[][] = Array.from({ length: A }, () => []);
    for (let i = 0; i < I; i++) {
      const gt = gts[k * I + i];
      const dt = dts[k * I + i];
      if (gt.length === 0 && dt.length === 0) continue;
      let ious: Float64Array[] | null = null;
      if (gt.length > 0 && dt.length > 0) {
        const ds = byScore(dt, maxDet);
        const crowd = gt.map((g) => g.iscrowd);
        ious = iouType === 'segm'
          ? rleIou(ds.map((d) => d.rle as Rle), gt.map((g) => g.rle as Rle), crowd)
          : bboxIou(ds.map((d) => d.box), gt.map((g) => g.box), crowd);
      }
      for (let a = 0; a < A; a++) {
        const e = evaluateImg(gt, dt, ious, p.areaRng[a], maxDet, p.iouThrs);
        if (e) E[a].push(e);
      }
      gts[k * I + i] = [];
      dts[k * I + i] = [];
    }
    for (let a = 0; a < A; a++) {
      if (E[a].length === 0) continue;
      let npig = 0;
      for (const e of E[a]) for (const g of e.gtIgnore) if (g === 0) npig++;
      if (npig === 0) continue;
      for (let m = 0; m < M; m++) {
        accumulateOne(E[a], maxDets[m], npig, p, (t, r, v) => {
          precision[(((t * R + r) * K + k) * A + a) * M + m] = v;
        }, (t, v) => {
          recall[((t * K + k) * A + a) * M + m] = v;
        });
      }
    }
  }

  const counts: [number, number, number, number, number] = [T, R, K, A, M];
  const result: CocoEvalResult = {
    iouType, params: { ...p, maxDets, imgIds, catIds }, stats: [], counts, precision, recall, perCategory: [],
  };
  result.stats = summarizeStats(result);
  const names = new Map(gtData.categories.map((c) => [c.id, c.name]));
  result.perCategory = catIds.map((id, k) => ({
    id,
    name: names.get(id) ?? String(id),
    ap: summarizeValue(result, { ap: true, areaLbl: 'all', maxDets: maxDets[M - 1], k }),
    ap50: summarizeValue(result, { ap: true, iouThr: 0.5, areaLbl: 'all', maxDets: maxDets[M - 1], k }),
    ap75: summarizeValue(result, { ap: true, iouThr: 0.75, areaLbl: 'all', maxDets: maxDets[M - 1], k }),
    apSmall: summarizeValue(result, { ap: true, areaLbl: 'small', maxDets: maxDets[M - 1], k }),
    apMedium: summarizeValue(result, { ap: true, areaLbl: 'medium', maxDets: maxDets[M - 1], k }),
    apLarge: summarizeValue(result, { ap: true, areaLbl: 'large', maxDets: maxDets[M - 1], k }),
    ar100: summarizeValue(result, { ap: false, areaLbl: 'all', maxDets: maxDets[M - 1], k }),
  }));
  return result;
}

function accumulateOne(
  E: readonly EvalImg[], maxDet: number, npig: number, p: CocoEvalParams,
  setPrecision: (t: number, r: number, v: number) => void,
  setRecall: (t: number, v: number) => void,
): void {
  const T = p.iouThrs.length;
  // Concatenate each image's first maxDet detections, then stable-sort by score.
  const scores: number[] = [];
  const srcE: number[] = [];
  const srcD: number[] = [];
  E.forEach((e, ei) => {
    const n = Math.min(maxDet, e.D);
    for (let d = 0; d < n; d++) {
      scores.push(e.dtScores[d]);
      srcE.push(ei);
      srcD.push(d);
    }
  });
  const inds = scores.map((_, i) => i).sort((i, j) => scores[j] - scores[i]);
  const nd = inds.length;
  const tp = new Float64Array(nd);
  const fp = new Float64Array(nd);
  const rc = new Float64Array(nd);
  const pr = new Float64Array(nd);
  for (let t = 0; t < T; t++) {
    let tpSum = 0;
    let fpSum = 0;
    for (let j = 0; j < nd; j++) {
      const e = E[srcE[inds[j]]];
      const d = srcD[inds[j]];
      const matched = e.dtMatches[t * e.D + d] !== 0;
      const ignored = e.dtIgnore[t * e.D + d] !== 0;
      if (matched && !ignored) tpSum++;
      if (!matched && !ignored) fpSum++;
      tp[j] = tpSum;
      fp[j] = fpSum;
    }
    for (let j = 0; j < nd; j++) {
      rc[j] = tp[j] / npig;
      pr[j] = tp[j] / (fp[j] + tp[j] + Number.EPSILON); // np.spacing(1)
    }
    setRecall(t, nd ? rc[nd - 1] : 0);
    for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
    // searchsorted(rc, recThrs, side='left'); thresholds past the last recall stay 0.
    let pi = 0;
    for (let r = 0; r < p.recThrs.length; r++) {
      const thr = p.recThrs[r];
      while (pi < nd && rc[pi] < thr) pi++;
      setPrecision(t, r, pi < nd ? pr[pi] : 0);
    }
  }
}

interface SummarizeQuery {
  ap: boolean;
  iouThr?: number;
  areaLbl: string;
  maxDets: number;
  /** Restrict to one category index (per-category figures). */
  k?: number;
}

/** pycocotools `_summarize`: mean of the selected precision / recall entries > −1, else −1. */
export function summarizeValue(res: CocoEvalResult, q: SummarizeQuery): number {
  const [T, R, K, A, M] = res.counts;
  const p = res.params;
  const ts = [...Array(T).keys()].filter((t) => q.iouThr === undefined || p.iouThrs[t] === q.iouThr);
  const as = [...Array(A).keys()].filter((a) => p.areaRngLbl[a] === q.areaLbl);
  const ms = [...Array(M).keys()].filter((m) => p.maxDets[m] === q.maxDets);
  const ks = q.k === undefined ? [...Array(K).keys()] : [q.k];
  const vals: number[] = [];
  for (const t of ts) {
    if (q.ap) {
      for (let r = 0; r < R; r++) {
        for (const k of ks) {
          for (const a of as) {
            for (const m of ms) {
              const v = res.precision[(((t * R + r) * K + k) * A + a) * M + m];
              if (v > -1) vals.push(v);
            }
          }
        }
      }
    } else {
      for (const k of ks) {
        for (const a of as) {
          for (const m of ms) {
            const v = res.recall[((t * K + k) * A + a) * M + m];
            if (v > -1) vals.push(v);
          }
        }
      }
    }
  }
  return vals.length === 0 ? -1 : npMean(vals);
}

/** The 12 numbers of pycocotools' `summarize()` for detection (`_summarizeDets`). */
export function summarizeStats(res: CocoEvalResult): number[] {
  const md = res.params.maxDets;
  const last = md[2] ?? md[md.length - 1];
  const s = (ap: boolean, areaLbl: string, maxDets: number, iouThr?: number) =>
    summarizeValue(res, { ap, iouThr, areaLbl, maxDets });
  return [
    s(true, 'all', 100),
    s(true, 'all', last, 0.5),
    s(true, 'all', last, 0.75),
    s(true, 'small', last),
    s(true, 'medium', last),
    s(true, 'large', last),
    s(false, 'all', md[0]),
    s(false, 'all', md[1]),
    s(false, 'all', last),
    s(false, 'small', last),
    s(false, 'medium', last),
    s(false, 'large', last),
  ];
}
