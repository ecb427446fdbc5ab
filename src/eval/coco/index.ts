/** COCO evaluation: RLE masks, dataset / results loading, COCOeval, summaries. */
export * from './rle.js';
export * from './types.js';
export * from './segm.js';
export * from './dataset.js';
export * from './cocoeval.js';
export * from './format.js';
