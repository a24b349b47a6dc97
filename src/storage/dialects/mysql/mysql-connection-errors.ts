import type { ServerTarget } from '../../../config/connection-string.js';
import type { CuttleError } from '../../../lib/errors.js';
import { serverConnectionError } from '../server-connection-errors.js';

/** MySQL's error numbers for a refused login (1045), a missing database (1049), a missing privilege (1044, 1142). */
export function mysqlConnectionError(err: unknown, target: ServerTarget): CuttleError {
  return serverConnectionError(err, target, (e) => {
    if (e.code === 'ER_ACCESS_DENIED_ERROR' || e.errno === 1045) return 'login';
    if (e.code === 'ER_BAD_DB_ERROR' || e.errno === 1049) return 'no-database';
    if (e.errno === 1044 || e.errno === 1142) return 'privilege';
    return undefined;
  });
}
