/**
 * Running a {@link Detector} on either engine, and its ONNX graph. The graph has two inputs,
 * `input` [1, 3, H, W] (normalised, padded) and `image_size` [2] (valid height and width, float),
 * and three outputs: `dets` [D, 6] (x1, y1, x2, y2, score, label), `masks` [D, 1, 28, 28]
 * (probabilities of each detection's class) and `proposals` [P, 5]. Height and width are dynamic.
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
  /** Runs one normalised, padded image [1, 3, H, W]; `imageSize` is its valid [height, width]. */
  run(image: HostTensor, imageSize: readonly [number, number]): Promise<RawDetections>;
  dispose(): Promise<void> | void;
}

/**
 * A detector runner over an exported ONNX model's runner (`run(input, tables)`): with an
 * `image_size` input (`export --image-size-input`, the graph the config runs) it is fed the valid
 * size; a single-input export treats the whole padded input as the image (boxes are then clipped
 * to the padded size).
 */
export function exportedDetectorRunner(runner: Runner, hasImageSize: boolean): DetectorRunner {
  return {
    async run(image, imageSize) {
      checkInput(image, imageSize);
      const out = await runner.run(image, hasImageSize ? { image_size: { shape: [2], data: Float32Array.from(imageSize) } } : {});
      return { dets: out.dets, masks: out.masks, proposals: out.proposals };
    },
    dispose: () => runner.dispose(),
  };
}

/** Refuses anything but one image whose valid size lies inside the input. */
export function checkInput(image: HostTensor, imageSize: readonly [number, number]): void {
  const [n, , h, w] = image.shape;
  if (image.shape.length !== 4 || n !== 1) throw new Error(`detector: expected one image [1, C, H, W], got [${image.shape.join(', ')}]`);
  if (!(imageSize[0] >= 1 && imageSize[1] >= 1 && imageSize[0] <= h && imageSize[1] <= w)) {
    throw new Error(`detector: image size ${imageSize.join('×')} outside the input ${h}×${w}`);
  }
}
