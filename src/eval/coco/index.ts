/** COCO evaluation: RLE masks, dataset / results loading, COCOeval, summaries. */
export * from '../../io/coco/rle.js';
export * from '../../io/coco/types.js';
export * from '../../io/coco/segm.js';
export * from '../../io/coco/dataset.js';
export * from './cocoeval.js';
export * from './format.js';
