/**
 * The OpenAPI 3.1 document of a running server (`GET /openapi.json`). Written out here rather
 * than generated from route schemas: the endpoint's body is a raw image, which schema-driven
 * generators describe poorly, and the document is small.
 */
import type { Endpoint } from './endpoints.js';

const error = { type: 'object', required: ['error'], properties: { error: { type: 'string', description: 'one line saying what is wrong' } } };
const box = { type: 'object', properties: { xmin: { type: 'number' }, ymin: { type: 'number' }, xmax: { type: 'number' }, ymax: { type: 'number' } } };
const rle = { type: 'object', description: "COCO compressed RLE (pycocotools' counts string) at the image size", properties: { size: { type: 'array', items: { type: 'integer' } }, counts: { type: 'string' } } };

const RESULTS: Record<Endpoint, { summary: string; schema: unknown; query: Array<[string, unknown, string]> }> = {
  detect: {
    summary: 'Instances (boxes, scores, class names, masks) in original-image pixels',
    schema: { type: 'object', properties: { instances: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, labelId: { type: 'integer' }, score: { type: 'number' }, box, mask: rle } } } } },
    query: [['overlay', { type: 'string', enum: ['1', '0', 'true', 'false'] }, 'answer the overlay PNG (image/png) instead of JSON'], ['threshold', { type: 'number', minimum: 0, maximum: 1, default: 0.3 }, 'keep instances scoring at least this'], ['nms', { type: 'string', enum: ['class', 'agnostic'] }, 'agnostic: also suppress overlapping instances of other classes'], ['mask', { type: 'string', enum: ['1', '0', 'true', 'false'], default: '1' }, 'encode masks']],
  },
  segment: {
    summary: 'A label map (PNG, one class index per pixel) and the classes present',
    schema: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' }, classes: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, labelId: { type: 'integer' }, pixels: { type: 'integer' }, share: { type: 'number' } } } }, labels_png: { type: 'string', contentEncoding: 'base64', description: 'grayscale PNG (8-bit, or 16-bit beyond 255 classes) of class indices' } } },
    query: [['overlay', { type: 'string', enum: ['1', '0', 'true', 'false'] }, 'answer the overlay PNG (image/png) with a legend instead of JSON'], ['mode', { type: 'string', enum: ['whole', 'slide'] }, "whole image or sliding window (default: the config's)"], ['tta', { type: 'string', enum: ['1', '0', 'true', 'false'] }, 'flip and multi-scale test-time augmentation']],
  },
  classify: {
    summary: 'The top classes with probabilities',
    schema: { type: 'object', properties: { classes: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, labelId: { type: 'integer' }, score: { type: 'number' } } } } } },
    query: [['topk', { type: 'integer', minimum: 1, maximum: 1000, default: 5 }, 'how many classes']],
  },
  features: {
    summary: 'Feature levels (NCHW float32, little-endian, base64) with stride and channels',
    schema: { type: 'object', properties: { levels: { type: 'object', additionalProperties: { type: 'object', properties: { shape: { type: 'array', items: { type: 'integer' } }, stride: { type: 'integer' }, channels: { type: 'integer' }, dtype: { const: 'float32' }, byte_order: { const: 'little' }, data: { type: 'string', contentEncoding: 'base64' } } } } } },
    query: [],
  },
};

const errors = Object.fromEntries(([
  ['400', 'empty body, bad query parameter, or a multipart form without a file'],
  ['413', 'body or image pixels over the limit'],
  ['415', 'not an accepted image format (JPEG, PNG, WebP, TIFF, GIF, AVIF) or content type'],
  ['422', 'an image that does not decode'],
  ['429', 'queue full: retry after Retry-After seconds'],
  ['503', 'timed out, loading, or shutting down'],
] as const).map(([code, description]) => [code, { description, content: { 'application/json': { schema: error } } }]));

/** The OpenAPI document of a server answering `endpoint` with `modelName`. */
export function openApiDocument(endpoint: Endpoint, modelName: string): Record<string, unknown> {
  const r = RESULTS[endpoint];
  const image = { schema: { type: 'string', format: 'binary' } };
  return {
    openapi: '3.1.0',
    info: { title: `convnext serve: ${modelName}`, version: '1' },
    paths: {
      [`/v1/${endpoint}`]: {
        post: {
          summary: r.summary,
          parameters: r.query.map(([name, schema, description]) => ({ name, in: 'query', required: false, schema, description })),
          requestBody: {
            required: true,
            content: {
              'image/*': image, 'application/octet-stream': image,
              'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } },
            },
          },
          responses: {
            200: {
              description: 'the result (the overlay PNG with ?overlay=1 on detect and segment)',
              content: { 'application/json': { schema: r.schema }, ...(endpoint === 'detect' || endpoint === 'segment' ? { 'image/png': { schema: { type: 'string', format: 'binary' } } } : {}) },
            },
            ...errors,
          },
        },
      },
      '/healthz': { get: { summary: 'the process is up', responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { summary: 'the model is loaded and warmed up', responses: { 200: { description: 'ready' }, 503: { description: 'loading' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (text format)', responses: { 200: { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  };
}
