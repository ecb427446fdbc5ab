/**
 * The RoI head registry. A RoI head type is one file that exports its registry entry (schema with
 * `roiHeadFields`, build from the pooled pyramid levels and the detector's context) and one
 * registration line here; a detector config then names it by `roi_head.type`.
 */
import { Registry } from '../../core/registry.js';
import { cascadeRoiHeadEntry } from './cascade-roi-head.js';
import type { RoiHeadConfig, RoiHeadContext } from './config.js';
import type { RoiHead } from './contract.js';
import { standardRoiHeadEntry } from './standard-roi-head.js';

export const ROI_HEADS = new Registry<RoiHead, RoiHeadContext, RoiHeadConfig>('RoI head');
ROI_HEADS.register(standardRoiHeadEntry);
ROI_HEADS.register(cascadeRoiHeadEntry);
