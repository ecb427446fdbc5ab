/** Training losses (mmdetection / mmsegmentation semantics), differentiable on every tfjs backend. */
export { type Reduction, type ReduceOptions, FLOAT32_EPS, weightReduceLoss, scaleLoss } from './reduce.js';
export { absWithSignGrad, bceWithLogits } from './elementwise.js';
export {
  type BinaryCrossEntropyOptions, type CrossEntropyOptions, TORCH_IGNORE_INDEX,
  binaryCrossEntropy, crossEntropy, maskCrossEntropy,
} from './cross-entropy.js';
export { type RegressionLossOptions, l1Loss, smoothL1Loss } from './regression.js';
export { type GIoULossOptions, giouLoss } from './giou.js';
export { type BoxLossSpec, boxLoss } from './box.js';
