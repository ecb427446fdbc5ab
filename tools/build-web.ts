/**
 * Bundles the browser page (src/web/page.ts and the isomorphic code it imports) with esbuild into
 * dist/web/, beside its index.html and style.css; `convnext web` copies it into a site. Run by
 * `npm run build`. The bundle must not reach Node-only code: esbuild fails on any Node built-in,
 * and sharp, onnxruntime-node and TensorFlow.js's Node bindings are refused by name.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });

const nodeOnly: esbuild.Plugin = {
  name: 'node-only',
  setup(build) {
    build.onResolve({ filter: /^(sharp|onnxruntime-node|@tensorflow\/tfjs-node(-gpu)?|@tensorflow\/tfjs-backend-(wasm|cpu))$/ }, (args) => ({
      errors: [{ text: `${args.path} is Node-only code and cannot be in the browser bundle (imported by ${args.importer})` }],
    }));
  },
};

const result = await esbuild.build({
  entryPoints: [join(root, 'src', 'web', 'page.ts')],
  outfile: join(out, 'page.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  plugins: [nodeOnly],
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'src', 'web', f), join(out, f));
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`web: dist/web/page.js (${(bytes / 1e3).toFixed(0)} kB)`);
