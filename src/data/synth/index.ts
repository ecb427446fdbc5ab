/** Synthetic shape datasets for detection (COCO JSON) and segmentation (label maps). */
export { colourDistance, hsvToRgb, Random, type Rgb } from './random.js';
export { DEFAULT_KINDS, insidePolygon, makeShape, rasterise, type Shape, SHAPE_KINDS, type ShapeKind } from './shapes.js';
export { generateScene, type Scene, SCENE_DEFAULTS, type SceneInstance, type SceneOptions } from './scene.js';
export { imageName, type SynthOptions, type SynthSummary, type SynthTask, writeSynthDataset } from './write.js';
