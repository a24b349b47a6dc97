import pg from 'pg';
import type { ConnectionTarget, ServerTarget } from '../../../config/connection-string.js';

/** int8 comes back as a number when it fits in 2^53 and as a decimal string when it does not. */
const int8 = (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};

export function pgConfig(t: ServerTarget, database = t.database): pg.PoolConfig {
  const sslmode = t.params.sslmode;
  return {
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database,
    application_name: 'cuttle',
    // Row text is UTF-8 on every engine: a database in another encoding still sends UTF-8 (COPY
    // bytes are hashed as they come, so the server must not send them in its own encoding).
    client_encoding: 'UTF8',
    connectionTimeoutMillis: 10_000,
    ssl: sslmode && sslmode !== 'disable' ? { rejectUnauthorized: sslmode === 'verify-full' } : undefined,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? int8 : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
    },
  };
}

export function asPostgres(t: ConnectionTarget): ServerTarget {
  if (t.engine !== 'postgres') throw new Error('not postgres');
  return t;
}
