/** Instance annotations of one training image, as the data pipeline delivers them to the losses. */

/** Ground truth of one (augmented) image. */
export interface GtInstances {
  /** [G·4] x1, y1, x2, y2 in input pixels. */
  boxes: Float32Array;
  /** [G] 0-based classes. */
  labels: Int32Array;
  /** G binary masks of `maskHeight` × `maskWidth`, row-major (1 inside). */
  masks: Uint8Array[];
  maskHeight: number;
  maskWidth: number;
}
