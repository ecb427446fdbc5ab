/**
 * Hostile configs, `--set` overrides and COCO files: prototype pollution attempts (with a check
 * that Object.prototype is untouched after each), absurd sizes that would allocate gigabytes, and
 * COCO geometry that pycocotools evaluates silently or that would exhaust memory.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../configs/index.js';
import { UserError } from '../../src/core/errors.js';
import { resetLimits, setLimits } from '../../src/core/limits.js';
import { cocoImagePath, loadCocoDataset, parseCocoDataset, parseCocoResults, prepareDetections } from '../../src/io/coco/dataset.js';
import { mainNetwork } from '../../src/tasks/networks.js';
import { ModelProto } from '../../src/core/ort/graph.js';
import { readOnnxInfo } from '../../src/core/ort/metadata.js';
import { describeOnnxModel } from '../../src/tasks/onnx-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'hostile-cfg-'));

function userError(fn: () => unknown): string {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String((e as Error).stack ?? e)}`);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(3000);
    return e.message;
  }
  throw new Error('expected an error');
}

/** Object.prototype as it must stay: no own keys we could have added. */
const prototypeClean = (): void => {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).x).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
};

describe('--set and config files never touch prototypes', () => {
  const sets = [
    '__proto__.x=1',
    'backbone.__proto__.x=1',
    'constructor.prototype.x=1',
    'backbone.constructor.prototype.polluted=1',
    'neck.prototype=1',
    'backbone={"__proto__":{"polluted":1}}',
    'backbone={"a":{"constructor":{"prototype":{"x":1}}}}',
  ];
  it.each(sets)('--set %s', (expr) => {
    expect(userError(() => resolveConfig('convnext-t_in1k', [expr]))).toMatch(/(is not allowed in a key path|is not allowed) \(__proto__, constructor, prototype are reserved names\)/);
    prototypeClean();
  });

  it('a config file with a __proto__ key (JSON.parse makes it an own key)', () => {
    const file = join(tmp, 'proto.json');
    writeFileSync(file, '{"type":"classifier","num_classes":10,"backbone":{"type":"convnext","__proto__":{"polluted":1}}}');
    expect(userError(() => resolveConfig(file))).toMatch(/config file .*proto\.json: key 'backbone\.__proto__' is not allowed/);
    prototypeClean();
  });

  it('empty path segments and a missing value', () => {
    expect(userError(() => resolveConfig('convnext-t_in1k', ['backbone..dims=[1]']))).toMatch(/empty key in the path/);
    expect(userError(() => resolveConfig('convnext-t_in1k', ['=1']))).toMatch(/expected key\.path=value/);
    prototypeClean();
  });

  it('a component type named after a prototype member is an unknown type, not a crash', () => {
    expect(userError(() => resolveConfig('convnext-t_in1k', ['backbone.type=constructor']))).toMatch(/backbone/);
    expect(userError(() => resolveConfig('convnext-t_in1k', ['backbone.type=__proto__']))).toMatch(/backbone/);
    prototypeClean();
  });
});

describe('config numbers that would make absurd allocations', () => {
  const cases: Array<[string, RegExp]> = [
    ['backbone.dims=[16,32,64,300000]', /backbone\.dims\.3: expected at most 65536 channels/],
    ['backbone.dims=[16,32,64,60000]', /parameter stages\.3\.0\.pwconv1\.weight of shape \[240000, 60000\].*limit tensor_elements/],
    ['backbone.depths=[3,3,9,1000]', /more than .* parameters \(at stages\.3\.\d+\..*limit model_parameters=1073741824/],
    ['num_classes=1e9', /num_classes: expected at most 100000 classes/],
    ['input.crop=100000', /input\.crop: expected at most 16384 pixels/],
    ['backbone.depths=[3,3,9,1e12]', /backbone\.depths\.3: expected at most 1024 blocks per stage/],
    ['backbone.dims=[1e300,1,1,1]', /backbone\.dims\.0: expected at most 65536 channels/],
    ['num_classes=-1', /num_classes/],
  ];
  it.each(cases)('--set %s', (expr, msg) => {
    // Resolving validates; building declares every parameter (where sizes are checked) before any allocation.
    expect(userError(() => mainNetwork(resolveConfig('convnext-t_in1k', [expr])))).toMatch(msg);
  });
});

describe('COCO files', () => {
  const gt = (over: Record<string, unknown> = {}, ann: Record<string, unknown> = {}): unknown => ({
    images: [{ id: 1, width: 64, height: 48, file_name: 'a.png' }],
    categories: [{ id: 1, name: 'thing' }],
    annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 2, 10, 10], area: 100, iscrowd: 0, segmentation: [[1, 2, 11, 2, 11, 12, 1, 12]], ...ann }],
    ...over,
  });
  const dataset = parseCocoDataset(gt(), 'gt.json');

  const gtCases: Array<[string, unknown, RegExp]> = [
    ['an image of 1e9 × 1e9', gt({ images: [{ id: 1, width: 1e9, height: 1e9 }] }), /images\[0\]\.width: 1000000000 is beyond ±100000 \(limit coco_coordinate=100000/],
    ['an image of 90000 × 90000 (sides within, pixels over)', gt({ images: [{ id: 1, width: 90000, height: 90000 }] }), /images\[0\]: 90000×90000 pixels is over the limit \(limit image_pixels=/],
    ['a polygon coordinate of 1e9', gt({}, { segmentation: [[1, 2, 1e9, 2, 11, 12]] }), /annotations\[0\]\.segmentation\[0\]\[2\]: 1000000000 is beyond ±100000/],
    ['an odd polygon', gt({}, { segmentation: [[1, 2, 11, 2, 11, 12, 1]] }), /annotations\[0\]\.segmentation\[0\]: polygon has an odd count of numbers \(7\), expected x, y pairs/],
    ['a bbox of 1e12', gt({}, { bbox: [0, 0, 1e12, 5] }), /annotations\[0\]\.bbox\[2\]: 1000000000000 is beyond/],
    ['an infinite area (1e999 parses to Infinity)', JSON.parse('{"images":[{"id":1,"width":4,"height":4}],"categories":[{"id":1,"name":"a"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":1e999}]}'), /annotations\[0\]\.area: expected a (finite )?number/],
    ['an RLE of another size than its image', gt({}, { segmentation: { size: [10, 10], counts: [100] } }), /annotations\[0\]\.segmentation\.size: \[10, 10\] differs from image 1's \[48, 64\]/],
    ['an RLE of 1e9 × 1e9', gt({}, { segmentation: { size: [1e9, 1e9], counts: 'abc' } }), /segmentation\.size\[0\]: 1000000000 is beyond/],
  ];
  it.each(gtCases)('ground truth: %s', (_name, json, msg) => {
    const m = userError(() => parseCocoDataset(json, 'gt.json'));
    expect(m.startsWith('gt.json: ')).toBe(true);
    expect(m).toMatch(msg);
  });

  const resCases: Array<[string, unknown, RegExp]> = [
    ['a result polygon with coordinates of 1e9', [{ image_id: 1, category_id: 1, score: 0.9, segmentation: [[0, 0, 1e9, 0, 1e9, 1e9]] }], /\[0\]\.segmentation\[0\]\[2\]: 1000000000 is beyond ±100000/],
    ['a result box of 1e9', [{ image_id: 1, category_id: 1, score: 0.9, bbox: [0, 0, 1e9, 1e9] }], /\[0\]\.bbox\[2\]: 1000000000 is beyond/],
    ['a result RLE of another size (pycocotools: IoU −1, silently)', [{ image_id: 1, category_id: 1, score: 0.9, segmentation: { size: [48, 63], counts: [3024] } }], /\[0\]\.segmentation\.size: \[48, 63\] differs from image 1's \[48, 64\]/],
    ['an odd result polygon', [{ image_id: 1, category_id: 1, score: 0.9, segmentation: [[0, 0, 5, 0, 5]] }], /odd count of numbers \(5\)/],
    ['a NaN-like score (a string)', [{ image_id: 1, category_id: 1, score: 'NaN', bbox: [0, 0, 1, 1] }], /\[0\]\.score: expected a number/],
  ];
  it.each(resCases)('results: %s', (_name, json, msg) => {
    const m = userError(() => prepareDetections(parseCocoResults(json, 'res.json'), dataset, 'res.json'));
    expect(m.startsWith('res.json: ')).toBe(true);
    expect(m).toMatch(msg);
  });

  it('a polygon whose outline is too long to trace is refused (within the coordinate limit)', () => {
    // 2000 edges between opposite corners of a 100000² image: 10^9 points on the 5× grid.
    const zigzag = Array.from({ length: 2000 }, (_, i) => (i % 2 ? [99_999, 99_999] : [0, 0])).flat();
    const big = parseCocoDataset(gt({ images: [{ id: 1, width: 6000, height: 6000 }] }, { segmentation: [zigzag] }), 'gt.json');
    const res = parseCocoResults([{ image_id: 1, category_id: 1, score: 1, segmentation: [zigzag] }], 'res.json');
    expect(userError(() => prepareDetections(res, big, 'res.json'))).toMatch(/polygons tracing more than 268435456 points on the 5× grid in one file \(limit coco_polygon_points=268435456/);
  });

  it('the polygon budget is per file: many polygons, each within it, are refused together', () => {
    setLimits({ coco_polygon_points: 1_000_000 });
    try {
      // 5 squares of ±10000: 400,000 points each on the 5× grid.
      const square = [-1e4, -1e4, -1e4, 1e4, 1e4, 1e4, 1e4, -1e4];
      const res = parseCocoResults(Array.from({ length: 5 }, () => ({ image_id: 1, category_id: 1, score: 1, segmentation: [square] })), 'res.json');
      expect(userError(() => prepareDetections(res, dataset, 'res.json'))).toMatch(/\[2\]\.segmentation: polygons tracing more than 1000000 points/);
    } finally {
      resetLimits();
    }
  });

  it('a file that is not JSON', () => {
    writeFileSync(join(tmp, 'bad.json'), '{"images": [');
    expect(userError(() => loadCocoDataset(join(tmp, 'bad.json')))).toMatch(/bad\.json: invalid JSON/);
  });

  it('an image file_name that leaves the image folder is refused before any read', () => {
    expect(userError(() => cocoImagePath('/data/images', '../../etc/passwd', 'gt.json: images[0]'))).toMatch(/gt\.json: images\[0\]: file_name '\.\.\/\.\.\/etc\/passwd' leaves the image folder/);
    expect(userError(() => cocoImagePath('/data/images', '/etc/passwd', 'gt.json: images[0]'))).toMatch(/leaves the image folder/);
    expect(cocoImagePath('/data/images', 'sub/a.jpg', 'x')).toBe('/data/images/sub/a.jpg');
  });
});

describe('deeply nested configs and hostile ONNX files', () => {
  it('a config nested 100,000 levels deep is refused without exhausting the stack', () => {
    const file = join(tmp, 'deep.json');
    writeFileSync(file, `{"type":"classifier","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(userError(() => resolveConfig(file))).toMatch(/deep\.json: nested more than 64 levels deep/);
  });

  it('random bytes, a length that runs past the file, and every truncation of a real model', () => {
    const model = ModelProto.encode(ModelProto.create({
      producerName: 'convnext', graph: { name: 'g', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] },
      metadataProps: [{ key: 'convnext.config', value: '{"type":"classifier"}' }, { key: '__proto__', value: 'x' }],
    })).finish();
    expect(readOnnxInfo(model).metadata['convnext.config']).toBe('{"type":"classifier"}');
    prototypeClean();
    const bad: Uint8Array[] = [Uint8Array.from({ length: 500 }, (_, i) => (i * 131 + 7) & 255), Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2)];
    for (let n = 1; n < model.length; n++) bad.push(model.subarray(0, n));
    let refused = 0;
    for (const b of bad) {
      try {
        describeOnnxModel(b, 'm.onnx');
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        expect(e.message).toMatch(/^(m\.onnx: (not a readable ONNX model \((a protobuf field runs past|corrupt protobuf|not an ONNX model)|no convnext metadata)|config m\.onnx \(metadata convnext\.config\): )/);
        expect(e.message.split('\n')).toHaveLength(1);
        refused++;
      }
    }
    expect(refused).toBe(bad.length);
  });

  it('class names in the metadata that are not a list of strings', () => {
    const withNames = (names: string): Uint8Array => ModelProto.encode(ModelProto.create({
      graph: { name: 'g', input: [{ name: 'input' }] },
      metadataProps: [{ key: 'convnext.config', value: JSON.stringify(resolveConfig('test_convnext-t-narrow_cls10')) }, { key: 'convnext.class_names', value: names }],
    })).finish();
    expect(userError(() => describeOnnxModel(withNames('{oops'), 'm.onnx'))).toMatch(/convnext\.class_names is not JSON/);
    expect(userError(() => describeOnnxModel(withNames('{"length":3}'), 'm.onnx'))).toMatch(/convnext\.class_names is not a list of strings/);
    expect(describeOnnxModel(withNames('["a","b"]'), 'm.onnx').classNames).toEqual(['a', 'b']);
  });
});
