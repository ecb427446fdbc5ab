// Instance segmentation with the bundled demo detector (pass --config/--weights-like options to
// pipeline() for your own): prints each object's class, score and box.
//   npx tsx examples/detect.ts [image ...]
import { pipeline } from 'convnext';

const images = process.argv.slice(2);
const detect = await pipeline('instance-segmentation');
const inputs = images.length > 0 ? images : ['assets/demo/shapes/shapes_0.png'];
const results = await detect(inputs, { threshold: 0.5 });
for (const [i, objects] of results.entries()) {
  console.log(JSON.stringify({ image: inputs[i], objects: objects.map(({ label, score, box }) => ({ label, score: +score.toFixed(3), box })) }));
}
await detect.dispose();
