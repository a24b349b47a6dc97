import fs from 'node:fs';
import path from 'node:path';
import { CuttleError, PreconditionError } from './errors.js';

/**
 * Checks of the files and folders a command is given, made before the work starts so that a
 * wrong path is refused at once, with the path and a code, instead of a raw errno after a whole
 * backup or load (and `errnoFailure` turns any errno that still escapes into the same form).
 * Root ignores permission bits, so writability is probed by really creating a file: a read-only
 * file system (EROFS) and an immutable folder (EPERM) refuse even root.
 */

/**
 * The real path of `p` with every symlink resolved, also when `p` does not exist yet: its longest
 * existing prefix is resolved and the rest appended. Checks that compare folders (one inside the
 * other) use it, or a symlink would hide that the new home is a subfolder of the old.
 */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  let existing = abs;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  return path.join(fs.realpathSync(existing), path.relative(existing, abs));
}

/** `dir` is a folder (or can be created as one) in which this process can create files. */
export function requireWritableFolder(dir: string, what: string): void {
  const abs = path.resolve(dir);
  let existing = abs;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) {
    throw new PreconditionError(`${what} ${abs} cannot be a folder: ${existing} is a file.`, {
      code: 'PATH_NOT_A_DIRECTORY',
      hints: ['Give a folder, or a path under one, that is not a file.'],
    });
  }
  const probe = path.join(existing, `.cuttle-write-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (err) {
    throw notWritable(what, existing, err);
  }
}

/** `file` can be written as a file: it is not a folder, and its folder is writable. */
export function requireWritableFile(file: string, what: string): void {
  const abs = path.resolve(file);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
    throw new PreconditionError(`${what} ${abs} is a folder, not a file.`, {
      code: 'PATH_IS_A_DIRECTORY',
      hints: ['Give the name of a file to write (in that folder, say).'],
    });
  }
  requireWritableFolder(path.dirname(abs), `The folder of ${what.toLowerCase()}`);
}

/** `file` exists and is a file this process can read. */
export function requireReadableFile(file: string, what: string): void {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs))
    throw new PreconditionError(`${what} ${abs} does not exist.`, { code: 'PATH_NOT_FOUND' });
  if (fs.statSync(abs).isDirectory()) {
    throw new PreconditionError(`${what} ${abs} is a folder, not a file.`, {
      code: 'PATH_IS_A_DIRECTORY',
      hints: ['Give the file itself.'],
    });
  }
  try {
    fs.accessSync(abs, fs.constants.R_OK);
  } catch (err) {
    throw notWritable(what, abs, err, 'readable');
  }
}

function notWritable(what: string, p: string, err: unknown, verb = 'writable'): PreconditionError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const why =
    code === 'EROFS'
      ? 'it is on a read-only file system'
      : code === 'EPERM'
        ? 'it is immutable or the operation is not permitted'
        : code === 'ENOSPC'
          ? 'its device is full'
          : `access is denied (${code})`;
  return new PreconditionError(`${what} ${p} is not ${verb}: ${why}.`, {
    code: 'PATH_NOT_WRITABLE',
    hints: ['Choose another place, or fix the folder (mount it read-write, chattr -i, chmod/chown).'],
  });
}

const ERRNO_CODES: Record<
  string,
  'PATH_NOT_A_DIRECTORY' | 'PATH_IS_A_DIRECTORY' | 'PATH_NOT_WRITABLE' | 'PATH_NOT_FOUND' | 'DISK_SPACE_LOW'
> = {
  ENOTDIR: 'PATH_NOT_A_DIRECTORY',
  EISDIR: 'PATH_IS_A_DIRECTORY',
  EROFS: 'PATH_NOT_WRITABLE',
  EPERM: 'PATH_NOT_WRITABLE',
  EACCES: 'PATH_NOT_WRITABLE',
  ENOENT: 'PATH_NOT_FOUND',
  ENOSPC: 'DISK_SPACE_LOW',
};

/** A file-system errno that escaped the checks, as a coded error naming the path; else undefined. */
export function errnoFailure(err: unknown): CuttleError | undefined {
  if (err instanceof CuttleError) return undefined;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code && ERRNO_CODES[e.code];
  if (!code || !e.path) return undefined;
  const what: Record<string, string> = {
    PATH_NOT_A_DIRECTORY: 'a part of the path is a file, not a folder',
    PATH_IS_A_DIRECTORY: 'it is a folder, not a file',
    PATH_NOT_WRITABLE: 'it cannot be written (read-only, immutable or access denied)',
    PATH_NOT_FOUND: 'it does not exist',
    DISK_SPACE_LOW: 'its device is full',
  };
  return new PreconditionError(`Cannot use ${e.path}: ${what[code]} (${e.code}).`, { code, cause: err });
}
