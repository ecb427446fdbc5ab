#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` / `npm install` run
// through the `prepare` script, and which the published package contains).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('convnext: the compiled CLI is missing (dist/src/cli/main.js); run `npm run build` in the package folder');
  process.exit(1);
}
await import(main.href);
