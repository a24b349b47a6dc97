import { type ConnectionTarget, describeTarget } from '../config/connection-string.js';
import { CuttleError, PreconditionError, RuntimeFailure } from '../lib/errors.js';

/**
 * Turns a driver's connection failure into a message an admin can act on. The driver's own text is
 * not echoed: some drivers put the connection string (with its password) in their messages.
 */
export function classifyConnectionError(err: unknown, target: ConnectionTarget): CuttleError {
  if (err instanceof CuttleError) return err;
  const e = err as { code?: string; errno?: number; message?: string };
  const where = describeTarget(target);
  const code = String(e.code ?? '');
  if (target.engine === 'sqlite') {
    if (code === 'SQLITE_CANTOPEN') {
      return new PreconditionError(
        `The SQLite database ${target.file} cannot be opened (missing file or folder?).`,
        {
          hints: ['Check the path, or create it with `cuttle database create`.'],
        },
      );
    }
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      return new PreconditionError(`${target.file} is not a SQLite database (or it is damaged).`);
    }
    return new RuntimeFailure(`SQLite failed on ${target.file}: ${e.message ?? code}`);
  }
  const hostPort = `${target.host}:${target.port}`;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new PreconditionError(`Cannot reach the database server at ${hostPort}: connection refused.`, {
      hints: [
        'Check that the server runs and listens on that address and port, and that no firewall is in between.',
      ],
    });
  }
  if (['ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
    return new PreconditionError(
      `Cannot reach the database server: the host name "${target.host}" does not resolve.`,
      {
        hints: ['Check the Host part of the connection string.'],
      },
    );
  }
  if (code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new PreconditionError(
      `Cannot reach the database server at ${hostPort}: the connection timed out.`,
    );
  }
  if (code === '28P01' || code === 'ER_ACCESS_DENIED_ERROR' || e.errno === 1045) {
    return new PreconditionError(
      `The database server at ${hostPort} refused the login of user "${target.user}": wrong password or unknown user.`,
      {
        hints: ['Check Username and Password in the connection string.'],
      },
    );
  }
  if (code === '28000') {
    return new PreconditionError(
      `The database server at ${hostPort} has no authentication rule that lets user "${target.user}" in.`,
      {
        hints: ['Add a host/md5 or scram-sha-256 line for this user and address to pg_hba.conf.'],
      },
    );
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR' || e.errno === 1049) {
    return new PreconditionError(`The database "${target.database}" does not exist on ${hostPort}.`, {
      hints: ['Create it with `cuttle database create --storage-connection-string ...` or ask the DBA to.'],
    });
  }
  if (code === '42501' || e.errno === 1044 || e.errno === 1142) {
    return new PreconditionError(`User "${target.user}" lacks a privilege Cuttle needs on ${where}.`, {
      hints: ['Run `cuttle database check` to list what is missing and the grant that fixes it.'],
    });
  }
  return new RuntimeFailure(`The database at ${where} failed: ${safeDriverMessage(e.message, target)}`);
}

function safeDriverMessage(message: string | undefined, target: ConnectionTarget): string {
  let m = message ?? 'unknown error';
  if (target.engine !== 'sqlite' && target.password) m = m.split(target.password).join('***');
  return m;
}
