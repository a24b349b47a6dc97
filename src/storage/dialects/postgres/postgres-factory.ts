import { Kysely, sql } from 'kysely';
import pg from 'pg';
import type { ServerTarget } from '../../../config/connection-string.js';
import type { Database } from '../../schema/database-types.js';
import { DateParamPlugin } from '../date-param-plugin.js';
import type { DialectFactory } from '../dialect.js';
import { withWakeups } from '../wakeups.js';
import { watchWrites } from '../write-watching-dialect.js';
import { postgresCapabilities } from './postgres-capabilities.js';
import { asPostgres, pgConfig } from './postgres-config.js';
import { postgresConnectionError } from './postgres-connection-errors.js';
import { PostgresDialectInfo } from './postgres-dialect.js';
import { postgresKyselyDialect } from './postgres-driver.js';
import { postgresTableReads } from './postgres-table-reads.js';
import { postgresWakeups } from './postgres-wakeups.js';

const quoteIdent = postgresCapabilities.quoteIdentifier;

async function withAdminClient<T>(t: ServerTarget, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...pgConfig(t, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** PostgreSQL: a pg pool, COPY in and out, LISTEN/NOTIFY. */
export const postgresFactory: DialectFactory = {
  engine: 'postgres',
  capabilities: postgresCapabilities,
  tableReads: postgresTableReads,
  wakeups: postgresWakeups,
  databaseFile: () => undefined,
  createKysely(target, opts) {
    const t = asPostgres(target);
    const pool = new pg.Pool({ ...pgConfig(t), max: opts.poolSize ?? 10 });
    // A dropped connection must surface as a failed query, never as an unhandled 'error' event.
    pool.on('error', () => {});
    // Natural-order reads (table-reader.ts) are cheapest with both: a table-form COPY then writes
    // bytea in the hex form row text uses, and a sequential scan starts at the table's first page
    // instead of joining another scan part-way (which would rotate the rows). Without them (a
    // pooler that resets sessions) the rows still verify, through the key-order fallback. A SET
    // rather than the `options` startup parameter, which connection poolers such as PgBouncer
    // refuse by default; pg runs it before any query of the connection's first user.
    pool.on('connect', (client) => {
      client.query('SET bytea_output = hex; SET synchronize_seqscans = off').catch(() => {});
    });
    const dialect = withWakeups(postgresKyselyDialect(pool), postgresWakeups);
    return new Kysely<Database>({
      dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect,
      plugins: [new DateParamPlugin()],
    });
  },
  async createDatabase(target) {
    const t = asPostgres(target);
    return withAdminClient(t, async (c) => {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [t.database]);
      if (r.rowCount) return false;
      await c.query(`CREATE DATABASE ${quoteIdent(t.database)} ENCODING 'UTF8' TEMPLATE template0`);
      return true;
    });
  },
  async dropDatabase(target) {
    const t = asPostgres(target);
    await withAdminClient(t, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(t.database)} WITH (FORCE)`);
    });
  },
  requireExisting() {},
  async describe(db, target) {
    const r = await sql<{ v: string }>`SHOW server_version`.execute(db);
    return new PostgresDialectInfo(String(Object.values(r.rows[0]!)[0]).split(' ')[0]!, asPostgres(target));
  },
  classifyConnectionError: (err, target) => postgresConnectionError(err, asPostgres(target)),
};
