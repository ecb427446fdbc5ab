import { UserError } from '../core/errors.js';

/** Prints an error for a person; returns the exit code. One line unless `verbose`. */
export function reportError(err: unknown, verbose: boolean): number {
  if (verbose && err instanceof Error) {
    console.error(err.stack ?? String(err));
  } else if (err instanceof UserError) {
    console.error(`error: ${err.message}`);
  } else {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.error(`error: ${msg} (run with --verbose for details)`);
  }
  return err instanceof UserError ? 2 : 1;
}
