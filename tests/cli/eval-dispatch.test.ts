/** `convnext eval` dispatches on the config's type and refuses flags of the other kind of evaluation. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/convnext.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

describe('convnext eval dispatch', () => {
  it('refuses classifier configs', async () => {
    const r = await cli(['eval', '-c', 'convnext-t_in1k', '--data', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error: config convnext-t_in1k is a classifier; eval takes segmentor and detector \(mask_rcnn, cascade_mask_rcnn\) configs/);
  });

  it('refuses detection flags for a segmentor', async () => {
    const r = await cli(['eval', '-c', 'upernet_convnext-t_512x512_160k_ade20k', '-w', 'w.safetensors', '--data', 'x', '--classwise']);
    expect(r.stderr).toMatch(/error: --classwise does not apply to segmentation evaluation/);
  });

  it('refuses segmentation flags for a detector', async () => {
    const r = await cli(['eval', '-c', 'mask-rcnn_convnext-t_fpn_3x_coco', '--data', 'x.json', '--tta']);
    expect(r.stderr).toMatch(/error: --tta does not apply to COCO evaluation/);
  });

  it('needs a config or a results file', async () => {
    const r = await cli(['eval', '--data', 'x.json']);
    expect(r.stderr).toMatch(/error: give --config \(with --weights\), or --results/);
  });
});
