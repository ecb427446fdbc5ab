/**
 * `convnext demo` with the bundled demo models (trained by tools/train_demo.sh): detection and
 * segmentation of the bundled sample images write overlays and JSON; the JSON is checked against
 * the synthetic ground truth the samples were rendered with (`convnext synth --task det --n 4
 * --size 160 --min-size 0.25 --max-size 0.5 --max-objects 4 --seed 10`): valid classes, scores
 * and boxes, per-class pixel shares that sum to one, the background share close to the truth, and
 * a floor on the shapes found with the right class (box IoU ≥ 0.5) that the bundled weights meet
 * (see assets/demo/README.md for their held-out figures). Also the brief feature / classification
 * step on both engines.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { generateScene, SCENE_DEFAULTS } from '../../src/data/synth/scene.js';
import { DEFAULT_KINDS } from '../../src/data/synth/shapes.js';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'convnext-demo-')), 'demo');
const SIZE = 320;
/** Shapes (of 14 in the four samples) the bundled detector must find with the right class at score ≥ 0.5 (it finds 13). */
const MIN_FOUND = 12;

interface DetJson { width: number; height: number; instances: Array<{ class_name: string; score: number; bbox: number[] }> }
interface SegJson { classes: Array<{ name: string; fraction: number }> }

/** Bounding box [x1, y1, x2, y2] of a row-major mask. */
function maskBox(mask: Uint8Array, w: number): number[] {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  mask.forEach((v, i) => {
    if (!v) return;
    const x = i % w;
    const y = Math.floor(i / w);
    [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + 1), Math.max(y2, y + 1)];
  });
  return [x1, y1, x2, y2];
}

function iou(a: number[], b: number[]): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

describe('convnext demo', () => {
  it('detects and segments the bundled shapes: overlays, JSON, agreement with the rendered truth', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'demo', '--out', out], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/detect {2}shapes_0\.png: /);
    expect(r.stdout).toMatch(/segment shapes_3\.png: background/);
    expect(r.stdout).toMatch(/ort vs tfjs max \|diff\|/);
    for (const f of ['demo.json', 'features.safetensors', 'classification.json', 'index.html', 'index.png']) expect(existsSync(join(out, f))).toBe(true);
    // The pages to look at: every sample's input, both overlays and its tables; a contact sheet of four rows.
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (let i = 0; i < 4; i++) {
      for (const src of [`inputs/shapes_${i}.png`, `detect/shapes_${i}.png`, `segment/shapes_${i}.overlay.png`]) {
        expect(html).toContain(`src="${src}"`);
        expect(existsSync(join(out, src)), src).toBe(true);
      }
    }
    expect((html.match(/<table>/g) ?? []).length).toBe(8);
    const sheet = await sharp(join(out, 'index.png')).metadata();
    expect(sheet.height).toBe(8 + 4 * (256 + 8));
    let found = 0;
    let total = 0;
    for (let i = 0; i < 4; i++) {
      const scene = generateScene(10, i, { width: SIZE, height: SIZE, kinds: DEFAULT_KINDS, ...SCENE_DEFAULTS, minSize: 0.25, maxSize: 0.5, maxObjects: 4 });
      for (const f of [`detect/shapes_${i}.png`, `segment/shapes_${i}.overlay.png`, `segment/shapes_${i}.labels.png`]) expect(existsSync(join(out, f)), f).toBe(true);

      const det = JSON.parse(readFileSync(join(out, 'detect', `shapes_${i}.json`), 'utf8')) as DetJson;
      expect([det.width, det.height]).toEqual([SIZE, SIZE]);
      // The same per-image format as `convnext detect` (COCO xywh boxes), at its default threshold.
      const dets = det.instances.map((d) => ({ ...d, box: [d.bbox[0], d.bbox[1], d.bbox[0] + d.bbox[2], d.bbox[1] + d.bbox[3]] }));
      for (const d of dets) {
        expect(DEFAULT_KINDS).toContain(d.class_name);
        expect(d.score).toBeGreaterThanOrEqual(0.3);
        expect(d.box[0] >= 0 && d.box[1] >= 0 && d.box[2] <= SIZE && d.box[3] <= SIZE && d.box[0] < d.box[2] && d.box[1] < d.box[3], `box ${d.box}`).toBe(true);
      }
      // Greedy one-to-one matching of detections (best score first) to shapes of the same kind.
      const truth = scene.instances.map((s) => ({ kind: s.kind as string, box: maskBox(s.mask, SIZE), used: false }));
      total += truth.length;
      for (const d of [...dets].sort((a, b) => b.score - a.score)) {
        const t = truth.find((g) => !g.used && g.kind === d.class_name && iou(g.box, d.box) >= 0.5);
        if (t) {
          t.used = true;
          found++;
        }
      }

      const seg = JSON.parse(readFileSync(join(out, 'segment', `shapes_${i}.json`), 'utf8')) as SegJson;
      expect(seg.classes.reduce((a, c) => a + c.fraction, 0)).toBeCloseTo(1, 5);
      for (const c of seg.classes) expect(['background', ...DEFAULT_KINDS]).toContain(c.name);
      const share = (name: string) => seg.classes.find((c) => c.name === name)?.fraction ?? 0;
      const bg = scene.labels.reduce((a, v) => a + (v === 0 ? 1 : 0), 0) / scene.labels.length;
      expect(Math.abs(share('background') - bg), `image ${i}: background share`).toBeLessThan(0.1);
    }
    expect(total).toBe(14);
    console.log(`demo: ${found} of ${total} shapes found with the right class (box IoU ≥ 0.5, score ≥ 0.3)`);
    expect(found).toBeGreaterThanOrEqual(MIN_FOUND);
  });
});
