// Multi-scale features (p2…p5) of an image from a backbone, on the TensorFlow.js engine.
//   npx tsx examples/features.ts [image]
import { pipeline } from 'convnext';

const extract = await pipeline('image-feature-extraction', { engine: 'tfjs' });
const features = await extract(process.argv[2] ?? 'assets/demo/shapes/shapes_2.png');
console.log(JSON.stringify(Object.fromEntries(Object.entries(features).map(([name, f]) => [name, { shape: f.shape, stride: f.stride }]))));
await extract.dispose();
