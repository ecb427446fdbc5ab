/**
 * Registration of TensorFlow.js's gradient functions. tfjs-core's Node bundle ships none (the
 * `@tensorflow/tfjs` union package and tfjs-node register them); its ES-module build has them but
 * imports its own files without extensions, which Node's loader refuses. A resolve hook scoped to
 * tfjs-core's `dist/` folder supplies the extensions, then the gradients are imported once.
 */
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

/** Resolve hook: inside tfjs-core/dist, `./x` → `./x.js` when that file exists (files win over folders), as ES modules. */
const HOOK = `
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const DIST = '/@tensorflow/tfjs-core/dist/';
export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent && parent.includes(DIST) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    const url = new URL(specifier + '.js', parent);
    if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
  }
  const r = await next(specifier, context);
  if (r.url.includes(DIST) && r.url.endsWith('.js') && !/tf-core[.]/.test(r.url)) return { ...r, format: 'module' };
  return r;
}`;

let loading: Promise<void> | null = null;

/** Makes sure tfjs's gradient functions are registered (idempotent; a no-op where tfjs-node did it). */
export function ensureGradients(): Promise<void> {
  if (tf.getGradient('Sum') && tf.getGradient('Conv2D')) return Promise.resolve();
  loading ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (!tf.getGradient('Sum')) throw new Error('tfjs gradients did not register');
  })();
  return loading;
}
