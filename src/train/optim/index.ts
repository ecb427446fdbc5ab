/** Optimisation: AdamW (PyTorch semantics), parameter groups, ConvNeXt layer decay, lr schedules, clipping. */
export { AdamW, type AdamWOptions, type OptimizerState } from './adamw.js';
export { clipGradNorm, type ClippedGrads } from './clip.js';
export {
  buildOptimizer, OPTIMIZER_DEFAULTS, optimizerSchema, scheduleSchema, toSchedule,
  type OptimizerConfig, type ScheduleConfigInput,
} from './config.js';
export { type DecayType, type LayerDecayOptions, layerId, layerIdLayerWise, layerIdStageWise, layerScale } from './layer-decay.js';
export { buildParamGroups, DEFAULT_NO_DECAY_ROLES, type ParamGroup, type ParamGroupOptions } from './param-groups.js';
export { lrAt, regularLr, type ScheduleConfig, validateSchedule, type WarmupConfig, warmupFactor } from './schedule.js';
