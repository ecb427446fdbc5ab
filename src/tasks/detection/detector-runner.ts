/**
 * Running a {@link Detector} graph. Two layouts exist:
 *
 * - one image per call (`Detector.runnerNetwork`, an export at batch 1): inputs `input`
 *   [1, 3, H, W] (normalised, padded) and `image_size` [2] (valid height and width, float);
 *   outputs `dets` [D, 6] (x1, y1, x2, y2, score, label), `masks` [D, 1, 28, 28] (probabilities of
 *   each detection's class) and `proposals` [P, 5];
 * - a batch per call (`Detector.batchNetwork`, an export with a dynamic or fixed batch > 1):
 *   `input` [N, 3, H, W] and `image_size` [N, 2]; outputs padded per image with zero rows,
 *   `dets` [N, K, 6], `masks` [N, K, 1, 28, 28], `num_dets` [N], `proposals` [N, P, 5] and
 *   `num_proposals` [N].
 *
 * Height and width are dynamic in both.
 */
import type { Runner } from '../../core/runner.js';
import type { HostTensor } from '../../core/host-tensor.js';

/** Host outputs of one image (see the module comment for layouts). */
export interface RawDetections {
  dets: HostTensor;
  masks: HostTensor;
  proposals: HostTensor;
}

export interface DetectorRunner {
  /** Whether a batch runs as one network call (else image by image: callers need not pad images to one size). */
  readonly batches: boolean;
  /** Runs one normalised, padded image [1, 3, H, W]; `imageSize` is its valid [height, width]. */
  run(image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections>;
  /** Runs a batch [N, 3, H, W] of padded images, `sizes[n]` the valid size of image n; one result per image. */
  runBatch(images: HostTensor, sizes: ReadonlyArray<readonly [number, number]>): Promise<RawDetections[]>;
  dispose(): Promise<void> | void;
}

/** How an exported detector graph is fed and read. */
export interface ExportedDetectorLayout {
  /** The graph has the `image_size` input (else each image is the whole input; boxes are then clipped to the padded size). */
  imageSize: boolean;
  /** The graph takes a batch (outputs padded per image, with `num_dets`). */
  batched: boolean;
}

/** The layout of an exported detector graph from its input and output names. */
export function exportedDetectorLayout(inputs: readonly string[], outputs: readonly string[]): ExportedDetectorLayout {
  return { imageSize: inputs.includes('image_size'), batched: outputs.includes('num_dets') };
}

/** Image `n` of a batch [N, C, H, W] as a batch of one. */
export function batchItem(images: HostTensor, n: number): HostTensor {
  const [, c, h, w] = images.shape;
  const size = c * h * w;
  return { shape: [1, c, h, w], data: images.data.subarray(n * size, (n + 1) * size) };
}

/** The first `count` rows of row block `n` of a padded batched output [N, K, …]. */
function rowsOf(t: HostTensor, n: number, count: number): HostTensor {
  const [, k, ...rest] = t.shape;
  const row = rest.reduce((a, b) => a * b, 1);
  const start = n * k * row;
  return { shape: [count, ...rest], data: t.data.slice(start, start + count * row) };
}

/** Per-image detections of a batched graph's outputs (padding rows dropped). */
export function unbatchDetections(out: Readonly<Record<string, HostTensor>>): RawDetections[] {
  const { dets, masks, proposals, num_dets: nd, num_proposals: np } = out;
  if (!dets || !masks || !proposals || !nd || !np) throw new Error(`detector: a batched graph returns dets, masks, num_dets, proposals and num_proposals; got ${Object.keys(out).join(', ')}`);
  return Array.from(nd.data, (count, n) => ({
    dets: rowsOf(dets, n, count),
    masks: rowsOf(masks, n, count),
    proposals: rowsOf(proposals, n, np.data[n]),
  }));
}

/** The `image_size` table of a batch: [N, 2] for a batched graph, [2] for a single image. */
export function sizeTable(sizes: ReadonlyArray<readonly [number, number]>, batched: boolean): HostTensor {
  return { shape: batched ? [sizes.length, 2] : [2], data: Float32Array.from(sizes.flat()) };
}

/**
 * A detector runner over an exported ONNX model's runner (`run(input, tables)`) of either layout
 * (see {@link exportedDetectorLayout}). A one-image graph runs a batch image by image.
 */
export function exportedDetectorRunner(runner: Runner, layout: ExportedDetectorLayout): DetectorRunner {
  const call = async (images: HostTensor, sizes: ReadonlyArray<readonly [number, number]>): Promise<RawDetections[]> => {
    const tables: Record<string, HostTensor> = layout.imageSize ? { image_size: sizeTable(sizes, layout.batched) } : {};
    const out = await runner.run(images, tables);
    return layout.batched ? unbatchDetections(out) : [{ dets: out.dets, masks: out.masks, proposals: out.proposals }];
  };
  const runBatch = async (images: HostTensor, sizes: ReadonlyArray<readonly [number, number]>): Promise<RawDetections[]> => {
    checkBatch(images, sizes);
    if (layout.batched) return call(images, sizes);
    const results: RawDetections[] = [];
    for (let n = 0; n < sizes.length; n++) results.push(...(await call(batchItem(images, n), [sizes[n]])));
    return results;
  };
  return {
    batches: layout.batched,
    async run(image, imageSize) {
      checkInput(image, imageSize);
      return (await call(image, [imageSize]))[0];
    },
    runBatch,
    dispose: () => runner.dispose(),
  };
}

/** Refuses anything but one image whose valid size lies inside the input. */
export function checkInput(image: HostTensor, imageSize: readonly [number, number]): void {
  if (image.shape.length !== 4 || image.shape[0] !== 1) throw new Error(`detector: expected one image [1, C, H, W], got [${image.shape.join(', ')}]`);
  checkBatch(image, [imageSize]);
}

/** Refuses a batch whose image count differs from `sizes` or where a valid size lies outside the input. */
export function checkBatch(images: HostTensor, sizes: ReadonlyArray<readonly [number, number]>): void {
  const [n, , h, w] = images.shape;
  if (images.shape.length !== 4 || n !== sizes.length || n === 0) throw new Error(`detector: expected ${sizes.length} image(s) [N, C, H, W], got [${images.shape.join(', ')}]`);
  for (const s of sizes) {
    if (!(s[0] >= 1 && s[1] >= 1 && s[0] <= h && s[1] <= w)) throw new Error(`detector: image size ${s.join('×')} outside the input ${h}×${w}`);
  }
}
