// Top-3 classes of an image from raw RGB pixels (any decoder works; here sharp).
//   npx tsx examples/classify.ts [image]
import sharp from 'sharp';
import { pipeline } from 'convnext';

const file = process.argv[2] ?? 'assets/demo/chelsea.jpg';
const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const classify = await pipeline('image-classification');
const top = await classify({ width: info.width, height: info.height, data: new Uint8Array(data) }, { topk: 3 });
console.log(JSON.stringify({ image: file, top }));
await classify.dispose();
