/** The endpoints a served model can answer, one per task. */
import type { Task } from '../pipeline/types.js';

/** The endpoint of each task a served model can have. */
export const ENDPOINTS = { detect: 'object-detection', segment: 'image-segmentation', classify: 'image-classification', features: 'image-feature-extraction' } as const satisfies Record<string, Task>;

/** An endpoint name: detect, segment, classify or features. */
export type Endpoint = keyof typeof ENDPOINTS;
