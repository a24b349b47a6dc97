import type { ServerTarget } from '../../../config/connection-string.js';
import { type CuttleError, PreconditionError } from '../../../lib/errors.js';
import { serverConnectionError } from '../server-connection-errors.js';

/** PostgreSQL's SQLSTATEs for a refused login, a missing pg_hba rule, a missing database, a missing privilege. */
export function postgresConnectionError(err: unknown, target: ServerTarget): CuttleError {
  return serverConnectionError(err, target, (e) => {
    switch (e.code) {
      case '28P01':
        return 'login';
      case '28000':
        return new PreconditionError(
          `The database server at ${target.host}:${target.port} has no authentication rule that lets user "${target.user}" in.`,
          {
            code: 'DATABASE_AUTH_RULE_MISSING',
            hints: ['Add a host/md5 or scram-sha-256 line for this user and address to pg_hba.conf.'],
          },
        );
      case '3D000':
        return 'no-database';
      case '42501':
        return 'privilege';
      default:
        return undefined;
    }
  });
}
