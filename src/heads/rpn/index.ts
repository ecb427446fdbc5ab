/**
 * The RPN head registry. An RPN head type is one file that exports its registry entry and one
 * registration line here; a detector config then names it by `rpn_head.type` ('rpn' when unset).
 */
import { Registry } from '../../core/registry.js';
import type { RpnHeadContext } from './config.js';
import type { RpnHead } from './contract.js';
import { rpnHeadEntry } from './rpn-head.js';

export const RPN_HEADS = new Registry<RpnHead, RpnHeadContext>('RPN head');
RPN_HEADS.register(rpnHeadEntry);
