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

/** Plain words for the file-system error codes a user can cause. */
const FS_CAUSES: Readonly<Record<string, string>> = {
  ENOENT: 'file not found',
  ELOOP: 'too many levels of symbolic links (a symlink loop)',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
};

/**
 * A {@link UserError} for a failed read of `file`: the file-system cause in words (not found,
 * symlink loop, a folder, permission denied), else `fallback` or the error's first line.
 */
export function fileError(file: string, err: unknown, fallback?: string): UserError {
  const code = (err as { code?: unknown } | null)?.code;
  const cause = typeof code === 'string' ? FS_CAUSES[code] : undefined;
  if (cause) return new UserError(`${file}: ${cause}`);
  return new UserError(`${file}: ${fallback ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))}`);
}
