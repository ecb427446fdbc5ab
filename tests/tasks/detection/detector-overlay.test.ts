/**
 * Overlay geometry on the bundled samples (demo detector, all instances down to score 0.05 so that
 * labels crowd): the picture is at least 512 px on its long side, every label lies inside it and no
 * two labels overlap; a synthetic crowd of 30 identical boxes in a corner gets the same guarantees.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../configs/index.js';
import { isDetectorConfig } from '../../../src/config/detector.js';
import { loadWeights } from '../../../src/io/load-weights.js';
import { readRgb } from '../../../src/io/image.js';
import { bindWeights } from '../../../src/core/weights.js';
import { Detector } from '../../../src/tasks/detection/detector.js';
import type { DetectionResult } from '../../../src/tasks/detection/detector-predict.js';
import { OVERLAY_MIN_SIDE, overlayLayout, placeLabels, type Rect } from '../../../src/tasks/detection/detector-overlay-layout.js';
import { renderOverlay } from '../../../src/tasks/detection/detector-overlay.js';
import { createDetectorPredictor } from '../../../src/tasks/detection/detector-engine.js';

const ASSETS = fileURLToPath(new URL('../../../assets/demo/', import.meta.url));
const SHAPES = join(ASSETS, 'shapes');

function checkLabels(labels: readonly Rect[], W: number, H: number): void {
  for (const r of labels) {
    expect(r.x >= 0 && r.y >= 0 && r.x + r.w <= W && r.y + r.h <= H, `label ${JSON.stringify(r)} inside ${W}×${H}`).toBe(true);
  }
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const [a, b] = [labels[i], labels[j]];
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      expect(overlap, `labels ${i} and ${j} overlap`).toBe(false);
    }
  }
}

describe('detection overlays', () => {
  it('on the bundled samples: ≥ 512 px, labels inside the image and not overlapping', async () => {
    const cfg = resolveConfig('demo_mask-rcnn_convnext-synth');
    if (!isDetectorConfig(cfg)) throw new Error('expected a detector');
    const det = new Detector(cfg);
    const { weights } = bindWeights(det.scope.registry, (await loadWeights(join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'))).tensors);
    const predictor = await createDetectorPredictor(det, weights, 'ort');
    let labels = 0;
    for (const f of readdirSync(SHAPES).filter((n) => n.endsWith('.png'))) {
      const img = await readRgb(join(SHAPES, f));
      const r = await predictor.predict(img, { scoreThr: 0.05 });
      const L = overlayLayout(r);
      expect(Math.max(L.width, L.height)).toBeGreaterThanOrEqual(OVERLAY_MIN_SIDE);
      checkLabels(L.labels, L.width, L.height);
      labels += L.labels.length;
      const meta = await sharp(await renderOverlay(img, r)).metadata();
      expect([meta.width, meta.height]).toEqual([L.width, L.height]);
    }
    expect(labels).toBeGreaterThan(8);
    await predictor.dispose();
  });

  it('a crowd of 30 identical boxes in a corner: every label placed inside, none overlapping', () => {
    const boxes = Array.from({ length: 30 }, () => [400, 400, 510, 510] as const);
    const sizes = Array.from({ length: 30 }, () => [90, 16] as const);
    checkLabels(placeLabels(boxes, sizes, 512, 512), 512, 512);
    const result: DetectionResult = { width: 64, height: 48, instances: [] };
    expect(overlayLayout(result)).toMatchObject({ width: 512, height: 384, scale: 8 });
  });
});
