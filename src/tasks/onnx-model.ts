/**
 * An exported ONNX model as a model of its own: the config, class names and input it describes
 * in its `metadata_props` (written by `convnext export`), so that it runs with no config.
 */
import { UserError } from '../core/errors.js';
import { type OnnxInfo, readOnnxInfo } from '../core/ort/metadata.js';
import type { ModelConfig } from '../config/models.js';
import { validateConfig } from '../config/resolve.js';

export interface OnnxModel {
  info: OnnxInfo;
  config: ModelConfig;
  classNames: readonly string[];
  /** Fixed input dims [N, C, H, W], or null where any is dynamic. */
  fixedInput: number[] | null;
}

/** Reads what `bytes` (the file `name`) says about itself; a one-line error when it is not a convnext export. */
export function describeOnnxModel(bytes: Uint8Array, name: string): OnnxModel {
  let info: OnnxInfo;
  try {
    info = readOnnxInfo(bytes);
  } catch (e) {
    throw new UserError(`${name}: not a readable ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const raw = info.metadata['convnext.config'];
  if (raw === undefined) throw new UserError(`${name}: no convnext metadata (convnext.config); export it with \`convnext export\`, or give --config and --weights`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(`${name}: metadata convnext.config is not JSON`);
  }
  const config = validateConfig(parsed, `${name} (metadata convnext.config)`);
  const names = info.metadata['convnext.class_names'];
  let classNames: string[] = [];
  if (names) {
    let v: unknown;
    try {
      v = JSON.parse(names);
    } catch {
      throw new UserError(`${name}: metadata convnext.class_names is not JSON`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UserError(`${name}: metadata convnext.class_names is not a list of strings`);
    classNames = v as string[];
  }
  const dims = info.inputs[0]?.dims ?? [];
  return { info, config, classNames, fixedInput: dims.every((d) => typeof d === 'number') ? (dims as number[]) : null };
}
