import { type CuttleError, PreconditionError, RuntimeFailure } from '../../../lib/errors.js';

/** A better-sqlite3 failure on `file` (its messages hold no secret: a file has no password). */
export function sqliteConnectionError(err: unknown, file: string): CuttleError {
  const e = err as { code?: string; message?: string };
  const code = String(e.code ?? '');
  if (code === 'SQLITE_CANTOPEN') {
    return new PreconditionError(`The SQLite database ${file} cannot be opened (missing file or folder?).`, {
      code: 'DATABASE_FILE_CANNOT_OPEN',
      hints: ['Check the path, or create it with `cuttle database create`.'],
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new PreconditionError(`${file} is not a SQLite database (or it is damaged).`, {
      code: 'DATABASE_FILE_INVALID',
    });
  }
  return new RuntimeFailure(`SQLite failed on ${file}: ${e.message ?? code}`, { code: 'DATABASE_FAILED' });
}
