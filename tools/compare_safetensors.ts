/**
 * Compares tensors of two safetensors files by name: `npx tsx tools/compare_safetensors.ts OURS REF [prefix]`.
 * REF names may carry a prefix (e.g. `expected.`). Prints max abs error and its ratio to max |ref|;
 * exits non-zero above the project tolerance (1e-4 relative).
 */
import { readSafetensors } from '../src/io/safetensors.js';

const [oursFile, refFile, prefix = 'expected.'] = process.argv.slice(2);
const ours = (await readSafetensors(oursFile)).tensors;
const ref = (await readSafetensors(refFile)).tensors;
let worst = 0;
for (const [name, a] of ours) {
  const b = ref.get(prefix + name);
  if (!b) continue;
  let err = 0;
  let mx = 0;
  for (let i = 0; i < b.data.length; i++) {
    err = Math.max(err, Math.abs(a.data[i] - b.data[i]));
    mx = Math.max(mx, Math.abs(b.data[i]));
  }
  worst = Math.max(worst, err / mx);
  console.log(`${name} [${a.shape.join(', ')}]: max abs err ${err.toExponential(2)}, max |ref| ${mx.toFixed(3)}, rel ${(err / mx).toExponential(2)}`);
}
process.exitCode = worst <= 1e-4 ? 0 : 1;
