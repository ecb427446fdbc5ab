/**
 * Test-time image preprocessing of mmsegmentation's pipeline: keep-ratio rescale into
 * `img_scale` (mmcv.rescale_size). The bilinear resize of the 8-bit image is src/image/resize.ts.
 */

/**
 * The size (width, height) an image of `w` × `h` is resized to: with `scale` = (long, short),
 * factor = min(long / max(w, h), short / min(w, h)) (mmcv `rescale_size` with keep_ratio); without
 * it, the factor is `ratio` itself. Sides are rounded half up and at least 1.
 */
export function rescaleSize(w: number, h: number, scale: readonly [number, number] | null, ratio = 1): [number, number] {
  let f: number;
  if (scale) {
    const long = Math.trunc(Math.max(scale[0], scale[1]) * ratio);
    const short = Math.trunc(Math.min(scale[0], scale[1]) * ratio);
    f = Math.min(long / Math.max(w, h), short / Math.min(w, h));
  } else {
    f = ratio;
  }
  return [Math.max(1, Math.trunc(w * f + 0.5)), Math.max(1, Math.trunc(h * f + 0.5))];
}
