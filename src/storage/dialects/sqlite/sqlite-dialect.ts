import fs from 'node:fs';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { PreconditionError } from '../../../lib/errors.js';
import type { BulkLoadOptions, TextSource } from '../../bulk-load/bulk-load-types.js';
import type { LogicalType, TableSpec } from '../../schema/column-types.js';
import type { Database } from '../../schema/database-types.js';
import type { Dialect, PrivilegeReport } from '../dialect.js';
import { sqliteBulkLoad } from './sqlite-bulk-load.js';
import { sqliteCapabilities } from './sqlite-capabilities.js';
import { sqliteIndexes } from './sqlite-indexes.js';
import { sqliteSnapshot } from './sqlite-snapshot.js';

const TYPES: Record<LogicalType, string> = {
  id: 'TEXT',
  text: 'TEXT',
  longtext: 'TEXT',
  json: 'TEXT',
  int: 'INTEGER',
  bigint: 'INTEGER',
  int64: 'INTEGER',
  bool: 'INTEGER',
  timestamp: 'TEXT',
  blob: 'BLOB',
};

export class SqliteDialectInfo implements Dialect {
  readonly engine = 'sqlite' as const;
  readonly capabilities = sqliteCapabilities;
  readonly indexes = sqliteIndexes;
  readonly supportsSkipLocked = false;
  readonly supportsReturning = true;
  readonly supportsTransactionalDdl = true;
  readonly singleWriter = true;
  constructor(
    readonly serverVersion: string,
    private readonly file: string,
  ) {}
  get label() {
    return `SQLite ${this.serverVersion}`;
  }
  columnType(type: LogicalType) {
    return TYPES[type];
  }
  tableOptions() {
    return '';
  }
  async currentUser() {
    return process.env.USER ?? 'local user';
  }
  async checkPrivileges(): Promise<PrivilegeReport> {
    const missing: string[] = [];
    try {
      fs.accessSync(path.dirname(this.file), fs.constants.W_OK);
    } catch {
      missing.push(`write access to the folder ${path.dirname(this.file)} (SQLite writes its journal there)`);
    }
    if (fs.existsSync(this.file)) {
      try {
        fs.accessSync(this.file, fs.constants.W_OK | fs.constants.R_OK);
      } catch {
        missing.push(`read and write access to ${this.file}`);
      }
    }
    return { missing, fix: missing.length ? [`chown the folder and file to the user that runs Cuttle`] : [] };
  }
  grantTo(): string[] {
    throw new PreconditionError(
      'SQLite has no users to grant to: give the service account write access to the file.',
      { code: 'GRANT_UNSUPPORTED' },
    );
  }
  async listTables(db: Kysely<Database>) {
    const r = await sql<{
      name: string;
    }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
    return r.rows.map((x) => x.name);
  }
  async freeSpace() {
    try {
      const s = fs.statfsSync(path.dirname(this.file));
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }
  async databaseSize() {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return undefined;
    }
  }
  bulkLoadText(table: TableSpec, text: TextSource, opts: BulkLoadOptions) {
    return sqliteBulkLoad(this.file, table, text, opts);
  }
  withSnapshot<T>(_db: Kysely<Database>, read: (snapshot: Kysely<Database>) => Promise<T>) {
    return sqliteSnapshot(this.file, read);
  }
}
