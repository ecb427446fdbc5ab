/**
 * The decode-head registry (semantic segmentation: decode and auxiliary heads). A head type is one
 * file that exports its registry entry, plus one registration line here.
 */
import type { DecodeHead, DecodeHeadContext } from '../../core/components.js';
import { Registry } from '../../core/registry.js';
import type { DecodeHeadConfig } from './decode-head.js';
import { fcnHeadEntry } from './fcn-head.js';
import { uperHeadEntry } from './uper-head.js';

export const DECODE_HEADS = new Registry<DecodeHead, DecodeHeadContext, DecodeHeadConfig>('decode head');
DECODE_HEADS.register(uperHeadEntry);
DECODE_HEADS.register(fcnHeadEntry);
