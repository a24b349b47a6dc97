import { describeTarget, type ServerTarget } from '../../config/connection-string.js';
import { type CuttleError, PreconditionError, RuntimeFailure } from '../../lib/errors.js';

/** What a driver error says, as far as classifying it goes. */
export interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

/** The refusals an engine's error codes can mean (each engine maps its own codes to these). */
export type ServerRefusal = 'login' | 'no-database' | 'privilege';

/**
 * A database server's failure (PostgreSQL, MySQL): network failures first, then what the
 * engine's own codes say (`engineSpecific`, which returns a refusal or a finished error), then the
 * driver's message with the password cut out. The driver's text is echoed only there, because
 * some drivers put the connection string in their messages.
 */
export function serverConnectionError(
  err: unknown,
  target: ServerTarget,
  engineSpecific: (e: DriverError) => ServerRefusal | CuttleError | undefined,
): CuttleError {
  const e = err as DriverError;
  const where = describeTarget(target);
  const code = String(e.code ?? '');
  const hostPort = `${target.host}:${target.port}`;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new PreconditionError(`Cannot reach the database server at ${hostPort}: connection refused.`, {
      code: 'DATABASE_UNREACHABLE',
      hints: [
        'Check that the server runs and listens on that address and port, and that no firewall is in between.',
      ],
    });
  }
  if (['ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
    return new PreconditionError(
      `Cannot reach the database server: the host name "${target.host}" does not resolve.`,
      {
        code: 'DATABASE_UNREACHABLE',
        hints: ['Check the Host part of the connection string.'],
      },
    );
  }
  if (code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new PreconditionError(
      `Cannot reach the database server at ${hostPort}: the connection timed out.`,
      { code: 'DATABASE_UNREACHABLE' },
    );
  }
  const refusal = engineSpecific(e);
  if (refusal === 'login') {
    return new PreconditionError(
      `The database server at ${hostPort} refused the login of user "${target.user}": wrong password or unknown user.`,
      {
        code: 'DATABASE_LOGIN_FAILED',
        hints: ['Check Username and Password in the connection string.'],
      },
    );
  }
  if (refusal === 'no-database') {
    return new PreconditionError(`The database "${target.database}" does not exist on ${hostPort}.`, {
      code: 'DATABASE_MISSING',
      hints: ['Create it with `cuttle database create --storage-connection-string ...` or ask the DBA to.'],
    });
  }
  if (refusal === 'privilege') {
    return new PreconditionError(`User "${target.user}" lacks a privilege Cuttle needs on ${where}.`, {
      code: 'DATABASE_PRIVILEGES_MISSING',
      hints: ['Run `cuttle database check` to list what is missing and the grant that fixes it.'],
    });
  }
  if (refusal) return refusal;
  return new RuntimeFailure(`The database at ${where} failed: ${safeDriverMessage(e.message, target)}`, {
    code: 'DATABASE_FAILED',
  });
}

function safeDriverMessage(message: string | undefined, target: ServerTarget): string {
  let m = message ?? 'unknown error';
  if (target.password) m = m.split(target.password).join('***');
  return m;
}
