/**
 * An error caused by the user's input (a file, a config path, a checkpoint key, a flag).
 * The CLI prints only its one-line message (no stack trace unless `--verbose`) and exits non-zero.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Throws a {@link UserError} with `message` unless `cond` holds. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new UserError(typeof message === 'string' ? message : message());
}
