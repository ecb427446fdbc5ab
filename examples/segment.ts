// Semantic segmentation with the bundled demo UPerNet: prints the classes present and their share.
//   npx tsx examples/segment.ts [image]
import { pipeline } from 'convnext';

await using segment = await pipeline('image-segmentation');
const image = process.argv[2] ?? 'assets/demo/shapes/shapes_1.png';
const { width, height, classes } = await segment(image);
console.log(JSON.stringify({ image, width, height, classes: classes.map(({ label, share }) => ({ label, share })) }));
