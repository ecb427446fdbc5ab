/** Reading a raw input tensor (`--tensor FILE.safetensors`) or an image for a model. */
import { UserError } from '../core/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import { shapeStr } from '../core/host-tensor.js';
import { readSafetensors } from '../io/safetensors.js';

/** The first tensor of a safetensors file, checked to be NCHW with `channels` channels. */
export async function readInputTensor(file: string, channels: number): Promise<HostTensor> {
  const { tensors } = await readSafetensors(file);
  const first = tensors.entries().next();
  if (first.done) throw new UserError(`${file}: holds no tensor`);
  const [name, t] = first.value;
  if (t.shape.length !== 4) throw new UserError(`${file}: tensor '${name}' has rank ${t.shape.length} ${shapeStr(t.shape)}; expected rank 4 (N, C, H, W)`);
  if (t.shape[1] !== channels) throw new UserError(`${file}: tensor '${name}' has ${t.shape[1]} channels ${shapeStr(t.shape)}; the model takes ${channels}`);
  if (t.shape[2] < 32 || t.shape[3] < 32) throw new UserError(`${file}: tensor '${name}' is ${t.shape[2]}×${t.shape[3]}; ConvNeXt needs at least 32×32`);
  return t;
}
