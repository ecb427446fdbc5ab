/**
 * The neck registry. A neck type is one file that exports its registry entry (schema, build,
 * checks) and one registration line here; configs then name it by `type`.
 */
import type { Neck } from '../core/components.js';
import { Registry } from '../core/registry.js';
import { fpnEntry } from './fpn.js';

export const NECKS = new Registry<Neck>('neck');
NECKS.register(fpnEntry);
