import type mysql from 'mysql2';
import type { ConnectionTarget, ServerTarget } from '../../../config/connection-string.js';

/** `database: null` connects to no database (to create or drop one). */
export function mysqlOptions(t: ServerTarget, database: string | null = t.database): mysql.PoolOptions {
  return {
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: database ?? undefined,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
    timezone: 'Z',
    connectTimeout: 10_000,
    ssl: t.params.sslmode && t.params.sslmode !== 'disable' ? {} : undefined,
  };
}

export function asMysql(t: ConnectionTarget): ServerTarget {
  if (t.engine !== 'mysql') throw new Error('not mysql');
  return t;
}
