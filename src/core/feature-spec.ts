/** The typed description of one output level of a backbone or neck. */
export interface FeatureSpec {
  /** p{log2(stride)}: p2 for stride 4 … p5 for stride 32. */
  readonly name: string;
  readonly channels: number;
  readonly stride: number;
}

/** Level name for a stride (a power of two). */
export function levelName(stride: number): string {
  return `p${Math.round(Math.log2(stride))}`;
}

/** The spec of an input image of `channels` channels (stride 1): what a backbone reads. */
export function imageSpec(channels: number): FeatureSpec {
  return { name: levelName(1), channels, stride: 1 };
}

/**
 * Checks a list of feature specs: strides strictly increasing powers of two, names matching
 * strides, positive channel counts. Throws naming `owner` and the offending level.
 */
export function validateFeatureSpecs(owner: string, specs: readonly FeatureSpec[]): readonly FeatureSpec[] {
  if (specs.length === 0) throw new Error(`${owner}: no output levels`);
  specs.forEach((s, i) => {
    if (!Number.isInteger(Math.log2(s.stride))) throw new Error(`${owner}: level ${s.name} stride ${s.stride} is not a power of two`);
    if (s.name !== levelName(s.stride)) throw new Error(`${owner}: level with stride ${s.stride} must be named ${levelName(s.stride)}, not ${s.name}`);
    if (!(s.channels > 0)) throw new Error(`${owner}: level ${s.name} has ${s.channels} channels`);
    if (i > 0 && s.stride <= specs[i - 1].stride) throw new Error(`${owner}: strides must increase (${specs[i - 1].stride} then ${s.stride})`);
  });
  return specs;
}
