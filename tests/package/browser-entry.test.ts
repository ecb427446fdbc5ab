/**
 * The package's `browser` export condition: a bundler targeting browsers that imports 'convnext'
 * gets the browser entry (dist/src/web/index.js: onnxruntime-web models, the shared pre- and
 * post-processing), and the bundle reaches no Node-only module; Node gets the Node entry.
 */
import { describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe("package exports: 'browser' and 'node' conditions", () => {
  it("a browser bundle of `import { loadModel, describeOnnxModel, exportedModel } from 'convnext'` resolves to the browser entry and holds no Node-only code", async () => {
    const r = await esbuild.build({
      stdin: { contents: "export { loadModel, describeOnnxModel, exportedModel, decodeImage, compressRle } from 'convnext';", resolveDir: ROOT, loader: 'ts' },
      bundle: true, write: false, format: 'esm', platform: 'browser', metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs).toContain('dist/src/web/index.js');
    expect(inputs).not.toContain('dist/src/index.js');
    expect(inputs.filter((p) => /node_modules\/(sharp|onnxruntime-node|@tensorflow\/tfjs-node)|^node:|(disabled):/.test(p))).toEqual([]);
    const exported = r.metafile.outputs[Object.keys(r.metafile.outputs)[0]].exports;
    expect(exported.sort()).toEqual(['compressRle', 'decodeImage', 'describeOnnxModel', 'exportedModel', 'loadModel']);
  });

  it('Node resolves the package to the Node entry (pipeline and the engines)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('convnext'))"], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim()).toMatch(/\/dist\/src\/index\.js$/);
  });
});
