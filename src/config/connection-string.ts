import path from 'node:path';
import { PreconditionError } from '../lib/errors.js';

/**
 * Connection strings as admins write them. Accepted forms:
 *   sqlite:/abs/path/file.db, sqlite:relative.db, file.db (a plain path ending in .db/.sqlite/.sqlite3)
 *   postgres://user:pass@host:port/db?sslmode=require (also postgresql://)
 *   mysql://user:pass@host:port/db (also mariadb://)
 *   Host=h;Port=5432;Database=d;Username=u;Password=p;Provider=PostgreSQL|MySQL   (Npgsql / MySqlConnector keywords)
 *   Data Source=file.db                                                          (SQLite keyword form)
 * SQL Server strings are recognised only to be refused with the PostgreSQL equivalent.
 */
export type Engine = 'sqlite' | 'postgres' | 'mysql';

export interface SqliteTarget {
  engine: 'sqlite';
  file: string;
}

export interface ServerTarget {
  engine: 'postgres' | 'mysql';
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** Extra parameters (sslmode, ...), kept verbatim. */
  params: Record<string, string>;
}

export type ConnectionTarget = SqliteTarget | ServerTarget;

/** Whether the target names a database on a server (host, port, user), not a local file. */
export function isServerTarget(t: ConnectionTarget): t is ServerTarget {
  return t.engine !== 'sqlite';
}

/** The password the target carries, if any (a file database has none). */
export function passwordOf(t: ConnectionTarget): string | undefined {
  return isServerTarget(t) ? t.password : undefined;
}

const SUPPORTED = 'Cuttle supports SQLite, PostgreSQL and MySQL/MariaDB';

export function parseConnectionString(raw: string, baseDir = process.cwd()): ConnectionTarget {
  const value = raw.trim();
  if (!value)
    throw new PreconditionError('The connection string is empty.', {
      code: 'CONNECTION_STRING_INVALID',
      hints: [examples()],
    });
  const lower = value.toLowerCase();
  if (lower.startsWith('sqlite:')) {
    const rest = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!rest)
      throw new PreconditionError('The SQLite connection string names no file.', {
        code: 'CONNECTION_STRING_INVALID',
        hints: [examples()],
      });
    return { engine: 'sqlite', file: path.resolve(baseDir, rest) };
  }
  if (/^(postgres|postgresql|mysql|mariadb):\/\//.test(lower)) return parseUrl(value);
  if (/^[a-z]+:\/\//.test(lower)) {
    throw new PreconditionError(
      `The connection string uses an unsupported scheme "${lower.split(':')[0]}".`,
      { code: 'CONNECTION_STRING_INVALID', hints: [`${SUPPORTED}.`, examples()] },
    );
  }
  if (value.includes('=')) return parseKeywords(value, baseDir);
  if (/\.(db|sqlite|sqlite3)$/i.test(value)) return { engine: 'sqlite', file: path.resolve(baseDir, value) };
  throw new PreconditionError('The connection string is not in a form Cuttle understands.', {
    code: 'CONNECTION_STRING_INVALID',
    hints: [examples()],
  });
}

function examples(): string {
  return [
    'Examples:',
    '  sqlite:/var/lib/cuttle/cuttle.db',
    '  postgres://cuttle:PASSWORD@db.example.com:5432/cuttle',
    '  mysql://cuttle:PASSWORD@db.example.com:3306/cuttle',
    '  Host=db.example.com;Port=5432;Database=cuttle;Username=cuttle;Password=PASSWORD;Provider=PostgreSQL',
  ].join('\n');
}

function parseUrl(value: string): ServerTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Never echo the value: it may hold a password.
    throw new PreconditionError('The connection string is not a valid URL.', {
      code: 'CONNECTION_STRING_INVALID',
      hints: [examples()],
    });
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const engine: ServerTarget['engine'] = scheme.startsWith('postgres') ? 'postgres' : 'mysql';
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.hostname)
    throw new PreconditionError('The connection string names no host.', {
      code: 'CONNECTION_STRING_INVALID',
      hints: [examples()],
    });
  if (!database) {
    throw new PreconditionError(
      'The connection string names no database (the path after the host, e.g. /cuttle).',
      { code: 'CONNECTION_STRING_INVALID', hints: [examples()] },
    );
  }
  const params: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    params[k] = v;
  });
  return {
    engine,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : defaultPort(engine),
    database,
    user: decodeURIComponent(url.username) || (engine === 'postgres' ? 'postgres' : 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    params,
  };
}

function defaultPort(engine: ServerTarget['engine']): number {
  return engine === 'postgres' ? 5432 : 3306;
}

function parseKeywords(value: string, baseDir: string): ConnectionTarget {
  const pairs = new Map<string, string>();
  for (const part of value.split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq < 0)
      throw new PreconditionError('The connection string has a part without "=".', {
        code: 'CONNECTION_STRING_INVALID',
        hints: [examples()],
      });
    pairs.set(part.slice(0, eq).trim().toLowerCase().replace(/[\s_]/g, ''), part.slice(eq + 1).trim());
  }
  const get = (...keys: string[]) => {
    for (const k of keys) {
      const v = pairs.get(k);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
  const provider = get('provider', 'engine')?.toLowerCase();
  const dataSource = get('datasource', 'server', 'address', 'addr', 'host');
  if (
    pairs.has('initialcatalog') ||
    pairs.has('integratedsecurity') ||
    pairs.has('trustedconnection') ||
    (dataSource?.includes('\\') ?? false) ||
    provider === 'sqlserver' ||
    provider === 'mssql'
  ) {
    throw sqlServerRefusal(pairs);
  }
  if (
    provider === 'sqlite' ||
    (!provider && pairs.has('datasource') && !pairs.has('host') && looksLikeFile(dataSource))
  ) {
    if (!dataSource)
      throw new PreconditionError('The SQLite connection string names no Data Source file.', {
        code: 'CONNECTION_STRING_INVALID',
      });
    return { engine: 'sqlite', file: path.resolve(baseDir, dataSource) };
  }
  const engine: ServerTarget['engine'] | undefined =
    provider === undefined
      ? undefined
      : ['postgres', 'postgresql', 'npgsql', 'pg'].includes(provider)
        ? 'postgres'
        : ['mysql', 'mariadb'].includes(provider)
          ? 'mysql'
          : undefined;
  if (!engine) {
    throw new PreconditionError(
      provider
        ? `The connection string names an unsupported Provider "${provider}".`
        : 'The connection string needs Provider=PostgreSQL or Provider=MySQL to say which engine it is for.',
      { code: 'CONNECTION_STRING_INVALID', hints: [`${SUPPORTED}.`, examples()] },
    );
  }
  const host = dataSource;
  const database = get('database', 'initialcatalog', 'db');
  if (!host)
    throw new PreconditionError('The connection string names no Host.', {
      code: 'CONNECTION_STRING_INVALID',
      hints: [examples()],
    });
  if (!database)
    throw new PreconditionError('The connection string names no Database.', {
      code: 'CONNECTION_STRING_INVALID',
      hints: [examples()],
    });
  let port = defaultPort(engine);
  let hostOnly = host;
  const m = /^(.*?)(?:[:,](\d+))?$/.exec(host);
  if (m?.[2]) {
    hostOnly = m[1]!;
    port = Number(m[2]);
  }
  const portValue = get('port');
  if (portValue) {
    if (!/^\d+$/.test(portValue))
      throw new PreconditionError('The connection string has a Port that is not a number.', {
        code: 'CONNECTION_STRING_INVALID',
      });
    port = Number(portValue);
  }
  const params: Record<string, string> = {};
  const sslMode = get('sslmode');
  if (sslMode) params.sslmode = sslMode.toLowerCase();
  return {
    engine,
    host: hostOnly,
    port,
    database,
    user: get('username', 'userid', 'user', 'uid') ?? (engine === 'postgres' ? 'postgres' : 'root'),
    password: get('password', 'pwd'),
    params,
  };
}

function looksLikeFile(v: string | undefined): boolean {
  return !!v && (/\.(db|sqlite|sqlite3)$/i.test(v) || v.includes('/') || v === ':memory:');
}

function sqlServerRefusal(pairs: Map<string, string>): PreconditionError {
  const server = (pairs.get('datasource') ?? pairs.get('server') ?? 'HOST')
    .split('\\')[0]!
    .replace(/^tcp:/i, '');
  const db = pairs.get('initialcatalog') ?? pairs.get('database') ?? 'Cuttle';
  const host = server.split(',')[0] || 'HOST';
  return new PreconditionError('This is a SQL Server connection string; Cuttle does not run on SQL Server.', {
    code: 'CONNECTION_STRING_INVALID',
    hints: [
      `${SUPPORTED}. Move the data into one of them and use, for example:`,
      `  Host=${host};Port=5432;Database=${db.toLowerCase()};Username=cuttle;Password=PASSWORD;Provider=PostgreSQL`,
      `  postgres://cuttle:PASSWORD@${host}:5432/${db.toLowerCase()}`,
      'Integrated (Windows) security has no equivalent: give the user a password.',
    ],
  });
}

/** A form that is safe to print: the password is never included. */
export function describeTarget(t: ConnectionTarget): string {
  if (t.engine === 'sqlite') return `sqlite:${t.file}`;
  const q = Object.keys(t.params).length ? `?${new URLSearchParams(t.params).toString()}` : '';
  const auth = `${encodeURIComponent(t.user)}${t.password ? ':***' : ''}@`;
  return `${t.engine}://${auth}${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}/${encodeURIComponent(t.database)}${q}`;
}

/** The canonical URL form, password included: only for storing sealed or handing to a driver. */
export function formatTarget(t: ConnectionTarget): string {
  if (t.engine === 'sqlite') return `sqlite:${t.file}`;
  const q = Object.keys(t.params).length ? `?${new URLSearchParams(t.params).toString()}` : '';
  const pw = t.password ? `:${encodeURIComponent(t.password)}` : '';
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.engine}://${encodeURIComponent(t.user)}${pw}@${host}:${t.port}/${encodeURIComponent(t.database)}${q}`;
}

/** True when both name the same database (ignoring credentials). */
export function sameDatabase(a: ConnectionTarget, b: ConnectionTarget): boolean {
  if (a.engine !== b.engine) return false;
  if (a.engine === 'sqlite' && b.engine === 'sqlite') return path.resolve(a.file) === path.resolve(b.file);
  const x = a as ServerTarget;
  const y = b as ServerTarget;
  const local = (h: string) => (['localhost', '127.0.0.1', '::1'].includes(h) ? 'loopback' : h.toLowerCase());
  return local(x.host) === local(y.host) && x.port === y.port && x.database === y.database;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('/');
}
