/**
 * Files shipped with the package (assets/: the demo models and sample images), found from the
 * package root whether the code runs from TypeScript sources or from compiled JavaScript in dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The directory of the package's package.json (the nearest one above this module named `convnext`). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'convnext') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('convnext: cannot find the package root (package.json) above its modules');
    dir = up;
  }
}

/** The package's version (package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** A path under the package's assets/ directory. */
export function assetPath(...parts: string[]): string {
  return join(packageRoot(), 'assets', ...parts);
}
