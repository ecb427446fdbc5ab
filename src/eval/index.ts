/** Evaluators: semantic-segmentation mIoU (mmsegmentation) and COCO bbox / segm (pycocotools). */
export * from './miou.js';
export * from './miou-format.js';
export * as coco from './coco/index.js';
