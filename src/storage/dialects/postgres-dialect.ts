import { Kysely, PostgresAdapter, type PostgresCursorConstructor, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { ConnectionTarget, ServerTarget } from '../../config/connection-string.js';
import type { LogicalType } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';
import { fastCopyTo } from './copy-out-stream.js';
import { DateParamPlugin } from './date-param-plugin.js';
import type { Dialect, DialectFactory, PrivilegeReport } from './dialect.js';
import { watchWrites } from './write-watching-dialect.js';

/**
 * PostgreSQL. Key and short-text columns use COLLATE "C" so indexes order bytewise, exactly as
 * SQLite and MySQL's binary collations do: a table read in primary-key order comes out in the same
 * order on every engine, which is what lets two engines' content hashes be compared.
 */
const TYPES: Record<LogicalType, string> = {
  id: 'text COLLATE "C"',
  text: 'text COLLATE "C"',
  longtext: 'text',
  json: 'text',
  int: 'integer',
  bigint: 'bigint',
  int64: 'bigint',
  bool: 'boolean',
  timestamp: 'text COLLATE "C"',
  blob: 'bytea',
};

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

function asServer(t: ConnectionTarget): ServerTarget {
  if (t.engine !== 'postgres') throw new Error('not postgres');
  return t;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

class PostgresDialectInfo implements Dialect {
  readonly engine = 'postgres' as const;
  readonly supportsSkipLocked = true;
  readonly supportsReturning = true;
  readonly supportsTransactionalDdl = true;
  readonly singleWriter = false;
  constructor(
    readonly serverVersion: string,
    private readonly target: ServerTarget,
  ) {}
  get label() {
    return `PostgreSQL ${this.serverVersion}`;
  }
  columnType(type: LogicalType) {
    return TYPES[type];
  }
  tableOptions() {
    return '';
  }
  async currentUser(db: Kysely<Database>) {
    const r = await sql<{ u: string }>`SELECT current_user AS u`.execute(db);
    return r.rows[0]!.u;
  }
  async checkPrivileges(db: Kysely<Database>): Promise<PrivilegeReport> {
    const r = await sql<{
      u: string;
      db_create: boolean;
      schema_create: boolean;
      schema_usage: boolean;
      foreign_tables: string | number;
    }>`SELECT current_user AS u,
              has_database_privilege(current_database(), 'CREATE') AS db_create,
              has_schema_privilege('public', 'CREATE') AS schema_create,
              has_schema_privilege('public', 'USAGE') AS schema_usage,
              (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
                 AND tableowner <> current_user
                 AND NOT pg_has_role(current_user, tableowner, 'MEMBER')) AS foreign_tables`.execute(db);
    const row = r.rows[0]!;
    const missing: string[] = [];
    if (!row.schema_usage) missing.push('USAGE on schema public');
    if (!row.schema_create) missing.push('CREATE on schema public (create tables and indexes)');
    if (!row.db_create) missing.push(`CREATE on database ${this.target.database}`);
    if (Number(row.foreign_tables) > 0) {
      missing.push(
        `ownership of ${row.foreign_tables} table(s) in schema public (needed to upgrade the schema)`,
      );
    }
    return {
      missing,
      fix: missing.length ? this.grantStatements(row.u, this.target.database) : [],
    };
  }
  grantStatements(user: string, database: string) {
    return [
      `ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(user)};`,
      `GRANT ALL ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(user)};`,
      `-- connected to ${database}:`,
      `ALTER SCHEMA public OWNER TO ${quoteIdent(user)};`,
      `GRANT ALL ON SCHEMA public TO ${quoteIdent(user)};`,
    ];
  }
  async listTables(db: Kysely<Database>) {
    const r = await sql<{
      name: string;
    }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`.execute(db);
    return r.rows.map((x) => x.name);
  }
  async freeSpace() {
    return undefined;
  }
  async databaseSize(db: Kysely<Database>) {
    const r = await sql<{ s: string | number }>`SELECT pg_database_size(current_database()) AS s`.execute(db);
    return Number(r.rows[0]!.s);
  }
}

/**
 * Kysely's streaming hook (`cursor`): a `COPY ... TO STDOUT` statement streams its raw text, one
 * network read per item, on the connection Kysely provides (pooled or a snapshot's transaction);
 * any other statement gets a pg-cursor. Closing a COPY early reads it to its end: the protocol has
 * no way to stop it short of cancelling, which would abort the caller's transaction.
 */
function copyOrCursor(text: string, params: unknown[]) {
  if (!/^\s*COPY\b/i.test(text)) return new Cursor(text, params);
  // 1 MB read-ahead: the server keeps sending while the reader decodes
  const stream = fastCopyTo(text, { highWaterMark: 1 << 20 });
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let done = false;
  const read = async (): Promise<Buffer[]> => {
    if (done) return [];
    const r = await it.next();
    if (r.done) done = true;
    return r.done ? [] : [r.value];
  };
  const close = async (): Promise<void> => {
    try {
      while (!done) if ((await it.next()).done) done = true;
    } catch {
      done = true;
    }
  };
  // The stream is the pg submittable; `read` and `close` are the cursor's (not Readable's read).
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'read') return read;
      if (prop === 'close') return close;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The adapter says what the dialect can do; readTable asks it for the COPY path. */
class CuttlePostgresAdapter extends PostgresAdapter {
  readonly copyToStdout = true;
}

class CuttlePostgresDialect extends PostgresDialect {
  override createAdapter() {
    return new CuttlePostgresAdapter();
  }
}

async function withAdminClient<T>(t: ServerTarget, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...pgConfig(t, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const postgresFactory: DialectFactory = {
  engine: 'postgres',
  createKysely(target, opts) {
    const t = asServer(target);
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
    const dialect = new CuttlePostgresDialect({
      pool,
      cursor: copyOrCursor as unknown as PostgresCursorConstructor,
    });
    return new Kysely<Database>({
      dialect: opts.changes ? watchWrites(dialect, opts.changes) : dialect,
      plugins: [new DateParamPlugin()],
    });
  },
  async createDatabase(target) {
    const t = asServer(target);
    return withAdminClient(t, async (c) => {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [t.database]);
      if (r.rowCount) return false;
      await c.query(`CREATE DATABASE ${quoteIdent(t.database)} ENCODING 'UTF8' TEMPLATE template0`);
      return true;
    });
  },
  async dropDatabase(target) {
    const t = asServer(target);
    await withAdminClient(t, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(t.database)} WITH (FORCE)`);
    });
  },
  async describe(db, target) {
    const r = await sql<{ v: string }>`SHOW server_version`.execute(db);
    return new PostgresDialectInfo(String(Object.values(r.rows[0]!)[0]).split(' ')[0]!, asServer(target));
  },
};
