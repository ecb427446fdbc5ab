/**
 * `export --triton REPO`: a Triton model repository entry (model.onnx + config.pbtxt). The
 * config is parsed (protobuf text format) and checked field by field against Triton's
 * `inference.ModelConfig` schema: the messages, fields, numbers, types and enum values used here
 * are transcribed from triton-inference-server/common protobuf/model_config.proto. The config's
 * tensors must match the ONNX graph's, and a batchable graph must run a batch Triton would form.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { FIXTURES, runCli } from '../helpers.js';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnxInfo } from '../../src/core/ort/metadata.js';
import { parseTextProto, type TextMessage } from './text-proto.js';

const ASSETS = fileURLToPath(new URL('../../assets/demo/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'convnext-triton-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = runCli;

/** The part of Triton's model_config.proto (package inference) that our configs use. */
const TRITON = protobuf.Root.fromJSON({
  nested: {
    inference: {
      nested: {
        DataType: { values: { TYPE_INVALID: 0, TYPE_BOOL: 1, TYPE_UINT8: 2, TYPE_UINT16: 3, TYPE_UINT32: 4, TYPE_UINT64: 5, TYPE_INT8: 6, TYPE_INT16: 7, TYPE_INT32: 8, TYPE_INT64: 9, TYPE_FP16: 10, TYPE_FP32: 11, TYPE_FP64: 12, TYPE_STRING: 13, TYPE_BF16: 14 } },
        ModelInstanceGroup: {
          nested: { Kind: { values: { KIND_AUTO: 0, KIND_GPU: 1, KIND_CPU: 2, KIND_MODEL: 3 } } },
          fields: { name: { type: 'string', id: 1 }, kind: { type: 'Kind', id: 4 }, count: { type: 'int32', id: 2 }, gpus: { rule: 'repeated', type: 'int32', id: 3 } },
        },
        ModelTensorReshape: { fields: { shape: { rule: 'repeated', type: 'int64', id: 1 } } },
        ModelInput: {
          nested: { Format: { values: { FORMAT_NONE: 0, FORMAT_NHWC: 1, FORMAT_NCHW: 2 } } },
          fields: {
            name: { type: 'string', id: 1 }, data_type: { type: 'DataType', id: 2 }, format: { type: 'Format', id: 3 }, dims: { rule: 'repeated', type: 'int64', id: 4 },
            reshape: { type: 'ModelTensorReshape', id: 5 }, optional: { type: 'bool', id: 8 },
          },
        },
        ModelOutput: {
          fields: {
            name: { type: 'string', id: 1 }, data_type: { type: 'DataType', id: 2 }, dims: { rule: 'repeated', type: 'int64', id: 3 }, label_filename: { type: 'string', id: 4 },
            reshape: { type: 'ModelTensorReshape', id: 5 },
          },
        },
        ModelDynamicBatching: { fields: { preferred_batch_size: { rule: 'repeated', type: 'int32', id: 1 }, max_queue_delay_microseconds: { type: 'uint64', id: 2 }, preserve_ordering: { type: 'bool', id: 3 } } },
        ModelConfig: {
          fields: {
            name: { type: 'string', id: 1 }, platform: { type: 'string', id: 2 }, backend: { type: 'string', id: 17 }, max_batch_size: { type: 'int32', id: 4 },
            input: { rule: 'repeated', type: 'ModelInput', id: 5 }, output: { rule: 'repeated', type: 'ModelOutput', id: 6 },
            instance_group: { rule: 'repeated', type: 'ModelInstanceGroup', id: 7 }, dynamic_batching: { type: 'ModelDynamicBatching', id: 11 },
            default_model_filename: { type: 'string', id: 8 },
          },
        },
      },
    },
  },
}, new protobuf.Root());

/** Checks a parsed text message against a schema type: known fields, repeatedness, scalar kinds, enum names. */
function checkMessage(msg: TextMessage, type: protobuf.Type, path: string): void {
  for (const [key, values] of Object.entries(msg)) {
    const field = type.fields[key];
    expect(field, `${path}.${key} is not a field of ${type.name}`).toBeDefined();
    field.resolve();
    if (!field.repeated) expect(values.length, `${path}.${key} given ${values.length} times`).toBe(1);
    for (const v of values) {
      if (field.resolvedType instanceof protobuf.Type) {
        expect(typeof v, `${path}.${key} must be a message`).toBe('object');
        checkMessage(v as TextMessage, field.resolvedType, `${path}.${key}`);
      } else if (field.resolvedType instanceof protobuf.Enum) {
        expect(Object.keys(field.resolvedType.values), `${path}.${key}`).toContain(v);
      } else if (field.type === 'string') {
        expect(typeof v, `${path}.${key}`).toBe('string');
      } else if (field.type === 'bool') {
        expect(['true', 'false'], `${path}.${key}`).toContain(v);
      } else {
        expect(Number.isInteger(v), `${path}.${key} must be an integer`).toBe(true);
        if (field.type.startsWith('uint')) expect(v as number).toBeGreaterThanOrEqual(0);
      }
    }
  }
}

/** The plain object of a checked message (singular fields unwrapped), for assertions. */
function plain(msg: TextMessage, type: protobuf.Type): Record<string, unknown> {
  return Object.fromEntries(Object.entries(msg).map(([k, vs]) => {
    const f = type.fields[k];
    f.resolve();
    const conv = (v: unknown): unknown => (f.resolvedType instanceof protobuf.Type ? plain(v as TextMessage, f.resolvedType) : v);
    return [k, f.repeated ? vs.map(conv) : conv(vs[0])];
  }));
}

const ModelConfig = TRITON.lookupType('inference.ModelConfig');

async function exportTriton(name: string, config: string, weights: string, extra: string[] = []): Promise<{ cfg: Record<string, unknown>; onnx: string }> {
  const r = await cli(['export', '-c', config, '-w', join(ASSETS, weights), '--triton', join(tmp, 'repo'), '--triton-name', name, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const text = readFileSync(join(tmp, 'repo', name, 'config.pbtxt'), 'utf8');
  const msg = parseTextProto(text);
  checkMessage(msg, ModelConfig, name);
  return { cfg: plain(msg, ModelConfig), onnx: join(tmp, 'repo', name, '1', 'model.onnx') };
}

type Tensor = { name: string; dims: number[] };

describe('export --triton', () => {
  it('classifier: batchable config that parses against Triton\'s schema; the graph runs the batch Triton forms', async () => {
    const { cfg, onnx } = await exportTriton('cls', 'test_convnext-t-narrow_cls10', 'convnext-t-narrow_cls10.safetensors', ['--max-batch-size', '4']);
    expect(cfg).toMatchObject({ name: 'cls', platform: 'onnxruntime_onnx', max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: 2000 }, instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    expect(cfg.input).toEqual([{ name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: [3, 64, 64] }]);
    expect(cfg.output).toEqual([{ name: 'logits', data_type: 'TYPE_FP32', dims: [10] }]);
    const info = readOnnxInfo(readFileSync(onnx));
    expect(info.inputs.map((i) => i.name)).toEqual((cfg.input as Tensor[]).map((i) => i.name));
    expect(info.inputs[0].dims.slice(1)).toEqual([3, 64, 64]);
    expect(typeof info.inputs[0].dims[0]).toBe('string'); // the batch dimension stays dynamic
    const s = await ort.InferenceSession.create(onnx);
    const x = Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.01));
    const both = (await s.run({ input: new ort.Tensor('float32', x, [2, 3, 64, 64]) })).logits;
    const one = (await s.run({ input: new ort.Tensor('float32', x.subarray(3 * 64 * 64), [1, 3, 64, 64]) })).logits;
    await s.release();
    expect(both.dims).toEqual([2, 10]);
    const b = both.data as Float32Array;
    const o = one.data as Float32Array;
    for (let k = 0; k < 10; k++) expect(Math.abs(b[10 + k] - o[k])).toBeLessThan(1e-4);
  });

  it('segmentor and detector: dynamic sizes; the detector is its batched graph (padded outputs, per-image counts as Triton scalars)', async () => {
    const seg = await exportTriton('seg', 'demo_upernet_convnext-synth', 'upernet_convnext-synth.safetensors', ['--dynamic']);
    expect(seg.cfg).toMatchObject({ max_batch_size: 8, input: [{ name: 'input', dims: [3, -1, -1] }], output: [{ name: 'logits', dims: [5, -1, -1] }] });
    const det = await exportTriton('det', 'demo_mask-rcnn_convnext-synth', 'mask-rcnn_convnext-synth.safetensors', ['--dynamic', '--image-size-input', '--max-batch-size', '4']);
    expect(det.cfg).toMatchObject({ max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: 2000 } });
    expect(det.cfg.input).toEqual([
      { name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: [3, -1, -1] },
      { name: 'image_size', data_type: 'TYPE_FP32', dims: [2] },
    ]);
    // The demo config's test max_per_img: 20 detections, 100 proposals.
    expect(det.cfg.output).toEqual([
      { name: 'dets', data_type: 'TYPE_FP32', dims: [20, 6] },
      { name: 'masks', data_type: 'TYPE_FP32', dims: [20, 1, 28, 28] },
      { name: 'num_dets', data_type: 'TYPE_FP32', dims: [1], reshape: { shape: [] } },
      { name: 'proposals', data_type: 'TYPE_FP32', dims: [100, 5] },
      { name: 'num_proposals', data_type: 'TYPE_FP32', dims: [1], reshape: { shape: [] } },
    ]);
    const info = readOnnxInfo(readFileSync(det.onnx));
    expect(info.inputs.map((i) => i.name)).toEqual(['input', 'image_size']);
    expect(info.outputs.map((o) => o.name)).toEqual(['dets', 'masks', 'num_dets', 'proposals', 'num_proposals']);
    // A batch of 2 as Triton forms it: each output has the batch dimension first and the config's dims after.
    const s = await ort.InferenceSession.create(det.onnx);
    const x = Float32Array.from({ length: 2 * 3 * 64 * 96 }, (_, i) => Math.sin(i * 0.01) * 2);
    const out = await s.run({ input: new ort.Tensor('float32', x, [2, 3, 64, 96]), image_size: new ort.Tensor('float32', Float32Array.from([64, 96, 48, 80]), [2, 2]) });
    await s.release();
    for (const o of det.cfg.output as Tensor[]) expect(out[o.name].dims, o.name).toEqual([2, ...(o.dims.length === 1 && o.dims[0] === 1 ? [] : o.dims)]);
  });

  it('a detector with --paste-masks: orig_size input, uint8 masks at the original size; refused where it cannot paste', async () => {
    const det = await exportTriton('det-pasted', 'demo_mask-rcnn_convnext-synth', 'mask-rcnn_convnext-synth.safetensors', ['--dynamic', '--image-size-input', '--paste-masks']);
    expect(det.cfg.input).toEqual([
      { name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: [3, -1, -1] },
      { name: 'image_size', data_type: 'TYPE_FP32', dims: [2] },
      { name: 'orig_size', data_type: 'TYPE_FP32', dims: [2] },
    ]);
    expect((det.cfg.output as Tensor[])[1]).toEqual({ name: 'masks', data_type: 'TYPE_UINT8', dims: [20, 1, -1, -1] });
    const s = await ort.InferenceSession.create(det.onnx);
    const x = Float32Array.from({ length: 2 * 3 * 64 * 96 }, (_, i) => Math.sin(i * 0.01) * 2);
    const out = await s.run({
      input: new ort.Tensor('float32', x, [2, 3, 64, 96]),
      image_size: new ort.Tensor('float32', Float32Array.from([64, 96, 48, 80]), [2, 2]),
      orig_size: new ort.Tensor('float32', Float32Array.from([128, 192, 96, 160]), [2, 2]),
    });
    await s.release();
    expect(out.masks.type).toBe('uint8');
    expect(out.masks.dims).toEqual([2, 20, 1, 128, 192]); // planes of the largest original
    const meta = JSON.parse(readOnnxInfo(readFileSync(det.onnx)).metadata['convnext.outputs']) as Record<string, string>;
    expect(meta.dets).toMatch(/original image pixels/);
    const common = ['export', '-c', 'demo_mask-rcnn_convnext-synth', '-w', join(ASSETS, 'mask-rcnn_convnext-synth.safetensors'), '--paste-masks'];
    expect((await cli([...common, '--triton', join(tmp, 'repo'), '--dynamic'])).stderr).toMatch(/^error: --paste-masks needs --image-size-input/m);
    expect((await cli([...common, '-o', join(tmp, 'p.onnx'), '--size', '320', '--image-size-input'])).stderr).toMatch(/^error: --paste-masks builds the batched graph: give --dynamic or --triton$/m);
    const tv = await cli(['export', '-c', 'test_mask-rcnn_convnext-narrow_tv', '-w', join(FIXTURES, 'det', 'tv_maskrcnn.pth'), '--triton', join(tmp, 'repo'), '--dynamic', '--image-size-input', '--paste-masks']);
    expect(tv.stderr).toMatch(/^error: --paste-masks pastes as mmdetection does; test_mask-rcnn_convnext-narrow_tv pastes as torchvision/m);
    // detect (and serve, and the page) run exports without the paste in the graph: one line.
    const d = await cli(['detect', '--model', det.onnx, '--image', join(ASSETS, 'shapes', 'shapes_0.png'), '-o', join(tmp, 'pasted-out')]);
    expect(d.code).toBe(2);
    expect(d.stderr.trim()).toMatch(/^error: \S+model\.onnx: this detector export pastes masks in its graph \(export --paste-masks, for Triton clients\)/);
  });

  it('--out and --triton: exactly one', async () => {
    const r = await cli(['export', '-c', 'test_convnext-t-narrow_cls10', '-w', join(ASSETS, 'convnext-t-narrow_cls10.safetensors')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give --out FILE or --triton REPO \(one of them\)/);
  });
});
