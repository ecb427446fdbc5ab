/**
 * Resource limits on sizes that come from input files (checkpoints, images, COCO files, configs).
 * A file that asks for more than a limit is refused with a one-line error naming the file, the
 * limit and how to raise it, before anything large is allocated.
 *
 * Raise a limit for one run with the environment variable `CONVNEXT_LIMITS` (comma-separated
 * `name=value` pairs, for example `CONVNEXT_LIMITS=image_pixels=2e8,pickle_ops=1e8`), or from code
 * with {@link setLimits}.
 */
import { UserError } from './errors.js';

/** The limits, by their names in `CONVNEXT_LIMITS`. */
export interface Limits {
  /** Opcodes one pickle may execute. */
  pickle_ops: number;
  /** Open MARKs at once (nesting depth of tuples, lists and dicts being built). */
  pickle_marks: number;
  /** Values on the pickle stack at once. */
  pickle_stack: number;
  /** Memo entries of one pickle. */
  pickle_memo: number;
  /** Bytes of one pickled integer (LONG1/LONG4), and decimal digits of a text integer. */
  pickle_int_bytes: number;
  /** Elements of one tensor read from a checkpoint, or of one parameter a config declares. */
  tensor_elements: number;
  /** Parameter elements of one model (all its tensors together): what a config declares, what a checkpoint holds. */
  model_parameters: number;
  /**
   * Elements materialized per element stored: a view with zero or overlapping strides expands
   * its storage at most this many times (views of 2^20 elements or fewer are always allowed).
   */
  tensor_amplification: number;
  /** Bytes a compressed zip entry may inflate to. */
  zip_inflate_bytes: number;
  /** Pixels of one decoded image (width × height). */
  image_pixels: number;
  /** Width or height of an image in a COCO file, and magnitude of any COCO coordinate. */
  coco_coordinate: number;
  /** Points traced rasterising the polygons of one COCO file (about 5 × their perimeters in pixels). */
  coco_polygon_points: number;
}

/** The defaults: far above any real checkpoint, photo or dataset, far below what exhausts memory. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  pickle_ops: 50_000_000,
  pickle_marks: 10_000,
  pickle_stack: 1_000_000,
  pickle_memo: 5_000_000,
  pickle_int_bytes: 4096,
  tensor_elements: 2 ** 28,
  model_parameters: 2 ** 30,
  tensor_amplification: 64,
  zip_inflate_bytes: 2 ** 30,
  image_pixels: 40_000_000,
  coco_coordinate: 100_000,
  coco_polygon_points: 2 ** 28,
});

const NAMES = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

function parseEnv(text: string | undefined): Partial<Limits> {
  const out: Partial<Limits> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim() as keyof Limits;
    const value = Number(item.slice(eq + 1));
    if (eq <= 0 || !NAMES.includes(name)) {
      throw new UserError(`CONVNEXT_LIMITS: unknown limit '${eq > 0 ? name : item}' (known: ${NAMES.join(', ')})`);
    }
    if (!Number.isFinite(value) || value <= 0) throw new UserError(`CONVNEXT_LIMITS: ${name} must be a positive number, got '${item.slice(eq + 1)}'`);
    out[name] = value;
  }
  return out;
}

let current: Limits | null = null;

/** The limits in force: the defaults, then `CONVNEXT_LIMITS`, then {@link setLimits}. */
export function limits(): Readonly<Limits> {
  if (!current) current = { ...DEFAULT_LIMITS, ...parseEnv((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CONVNEXT_LIMITS) };
  return current;
}

/** Overrides some limits for this process (a library user's equivalent of `CONVNEXT_LIMITS`). */
export function setLimits(overrides: Partial<Limits>): void {
  for (const [k, v] of Object.entries(overrides)) {
    if (!NAMES.includes(k as keyof Limits)) throw new UserError(`setLimits: unknown limit '${k}' (known: ${NAMES.join(', ')})`);
    if (typeof v !== 'number' || !(v > 0)) throw new UserError(`setLimits: ${k} must be a positive number`);
  }
  current = { ...limits(), ...overrides };
}

/** Restores the defaults and `CONVNEXT_LIMITS` (for tests). */
export function resetLimits(): void {
  current = null;
}

/** How to raise `name`, for messages. */
export function raiseHint(name: keyof Limits): string {
  return `limit ${name}=${limits()[name]}; raise it with CONVNEXT_LIMITS=${name}=N`;
}

/** An input over one of the {@link Limits}: a {@link UserError} that names the limit (servers answer 413). */
export class LimitExceeded extends UserError {
  override name = 'LimitExceeded';
  constructor(readonly limit: keyof Limits, message: string) {
    super(message);
  }
}

/** A {@link LimitExceeded} for an input over limit `name`: `${what} (limit …; raise it with …)`. */
export function overLimit(name: keyof Limits, what: string): LimitExceeded {
  return new LimitExceeded(name, `${what} (${raiseHint(name)})`);
}
