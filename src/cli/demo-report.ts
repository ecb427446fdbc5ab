/**
 * The demo's pages to look at: `index.html` (per image: the input, the detection and segmentation
 * overlays, a table of detections and one of class shares) and `index.png`, a contact sheet with
 * the same rows at a glance. Both are made from what the demo wrote (detect/, segment/).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomic.js';
import { escapeXml } from '../image/xml.js';

interface DetJson { instances: Array<{ class_name: string; score: number }> }
interface SegJson { classes: Array<{ name: string; fraction: number }> }

/** One row of the report: an input and what the demo wrote for it. */
export interface DemoRow {
  image: string;
  input: string;
  detOverlay: string;
  segOverlay: string;
  detections: DetJson['instances'];
  classes: SegJson['classes'];
}


/** The report rows of the inputs whose detection and segmentation outputs exist under `out` (stems as the demo named them). */
export async function demoRows(out: string, files: readonly string[], stems: readonly string[]): Promise<DemoRow[]> {
  await mkdir(join(out, 'inputs'), { recursive: true });
  const rows: DemoRow[] = [];
  for (const [i, file] of files.entries()) {
    const stem = stems[i];
    let det: DetJson;
    let seg: SegJson;
    try {
      det = JSON.parse(await readFile(join(out, 'detect', `${stem}.json`), 'utf8')) as DetJson;
      seg = JSON.parse(await readFile(join(out, 'segment', `${stem}.json`), 'utf8')) as SegJson;
    } catch {
      continue; // an input that could not be read (listed by the demo)
    }
    const input = join('inputs', `${stem}${extname(file)}`);
    await copyFile(file, join(out, input));
    rows.push({ image: basename(file), input, detOverlay: join('detect', `${stem}.png`), segOverlay: join('segment', `${stem}.overlay.png`), detections: det.instances, classes: seg.classes });
  }
  return rows;
}

/** `index.html` of the rows (paths relative to `out`). */
export function demoHtml(rows: readonly DemoRow[]): string {
  const td = (s: string) => `<td>${escapeXml(s)}</td>`;
  const body = rows.map((r) => `
<section>
  <h2>${escapeXml(r.image)}</h2>
  <div class="row"><figure><img src="${r.input}"><figcaption>input</figcaption></figure>
  <figure><img src="${r.detOverlay}"><figcaption>instances</figcaption></figure>
  <figure><img src="${r.segOverlay}"><figcaption>semantic segmentation</figcaption></figure></div>
  <div class="row">
  <table><tr><th>class</th><th>score</th></tr>${r.detections.map((d) => `<tr>${td(d.class_name)}${td(d.score.toFixed(3))}</tr>`).join('') || '<tr><td colspan="2">nothing detected</td></tr>'}</table>
  <table><tr><th>class</th><th>share</th></tr>${r.classes.map((c) => `<tr>${td(c.name)}${td(`${(100 * c.fraction).toFixed(1)} %`)}</tr>`).join('')}</table>
  </div>
</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>convnext demo</title>
<style>body{font-family:sans-serif;margin:2em}.row{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap}img{height:320px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}figure{margin:0}</style></head>
<body><h1>convnext demo</h1><p>Demo Mask R-CNN and UPerNet (ConvNeXt, trained on synthetic shapes; see assets/demo/README.md). Contact sheet: <a href="index.png">index.png</a>.</p>
${body}
</body></html>
`;
}

/** `index.png`: one row per input (input, instances, segmentation, and the top detections and shares as text), each picture 256 px tall. */
export async function demoSheet(out: string, rows: readonly DemoRow[]): Promise<Buffer> {
  const H = 256;
  const gap = 8;
  const textW = 260;
  const tiles: Array<{ input: Buffer; top: number; left: number }> = [];
  let width = 0;
  for (const [k, r] of rows.entries()) {
    let left = gap;
    const top = gap + k * (H + gap);
    for (const p of [r.input, r.detOverlay, r.segOverlay]) {
      const buf = await sharp(join(out, p)).resize({ height: H }).png().toBuffer();
      const meta = await sharp(buf).metadata();
      tiles.push({ input: buf, top, left });
      left += (meta.width ?? H) + gap;
    }
    const lines = [
      r.image,
      ...r.detections.slice(0, 6).map((d) => `${d.class_name} ${d.score.toFixed(2)}`),
      ...(r.detections.length > 6 ? [`+${r.detections.length - 6} more`] : []),
      '',
      ...r.classes.slice(0, 5).map((c) => `${c.name} ${(100 * c.fraction).toFixed(1)}%`),
    ];
    const svg = `<svg width="${textW}" height="${H}" xmlns="http://www.w3.org/2000/svg">${lines.map((l, i) => `<text x="4" y="${18 + i * 18}" font-family="sans-serif" font-size="${i === 0 ? 15 : 13}" fill="#000">${escapeXml(l)}</text>`).join('')}</svg>`;
    tiles.push({ input: Buffer.from(svg), top, left });
    width = Math.max(width, left + textW + gap);
  }
  const height = gap + rows.length * (H + gap);
  return sharp({ create: { width: Math.max(width, 1), height: Math.max(height, 1), channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(tiles).png().toBuffer();
}

/** Writes `index.html` and `index.png` under `out`. */
export async function writeDemoReport(out: string, files: readonly string[], stems: readonly string[]): Promise<number> {
  const rows = await demoRows(out, files, stems);
  await writeFileAtomic(join(out, 'index.html'), demoHtml(rows));
  await writeFileAtomic(join(out, 'index.png'), await demoSheet(out, rows));
  return rows.length;
}
