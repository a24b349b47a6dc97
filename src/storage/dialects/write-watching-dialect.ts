import type {
  CompiledQuery,
  DatabaseConnection,
  Driver,
  Dialect as KyselyDialect,
  OperationNode,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import type { TableChanges } from '../table-changes.js';

/**
 * Wraps a Kysely dialect so that every write made through the handle is reported to
 * `TableChanges` once it is visible to other connections: after the statement when it runs on its
 * own, after COMMIT when it runs in a transaction. Reporting at statement time inside a
 * transaction would be wrong on a pooled engine: another connection could read (and a cache keep)
 * the old rows between the report and the commit.
 *
 * The tables come from Kysely's query tree; raw SQL that is not a plain read is reported as
 * "tables unknown", which moves every version (raw writes are rare admin operations).
 */
export function watchWrites(dialect: KyselyDialect, changes: TableChanges): KyselyDialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new WatchingDriver(dialect.createDriver(), changes),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

type Effect =
  | { kind: 'read' }
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'write'; tables: ReadonlySet<string> | null };

const READ: Effect = { kind: 'read' };
const UNKNOWN_WRITE: Effect = { kind: 'write', tables: null };

function tableName(node: OperationNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.kind === 'AliasNode') return tableName((node as unknown as { node: OperationNode }).node);
  if (node.kind !== 'TableNode') return undefined;
  return (node as unknown as { table: { identifier: { name: string } } }).table.identifier.name;
}

function writeOf(targets: (OperationNode | undefined)[]): Effect {
  const tables = new Set<string>();
  for (const t of targets) {
    const name = tableName(t);
    if (name === undefined) return UNKNOWN_WRITE;
    tables.add(name);
  }
  return { kind: 'write', tables };
}

/** The first keyword of raw SQL, past leading comments (`/* cuttle:rows-as-arrays *\/ SELECT`). */
const FIRST_WORDS = /^(?:\s|\/\*[\s\S]*?\*\/|--[^\n]*\n)*([A-Za-z]+)(?:\s+([A-Za-z]+))?/;
const COPY_OUT = /\bTO\s+STDOUT\b/i;
const READ_WORDS = new Set([
  'select',
  'show',
  'explain',
  'values',
  'describe',
  'set',
  'savepoint',
  'release',
]);

function rawEffect(sqlText: string): Effect {
  const m = FIRST_WORDS.exec(sqlText);
  const word = m?.[1]?.toLowerCase();
  if (!word) return UNKNOWN_WRITE;
  if (READ_WORDS.has(word)) return READ;
  // The table reader streams PostgreSQL tables with COPY (SELECT ...) TO STDOUT.
  if (word === 'copy' && COPY_OUT.test(sqlText)) return READ;
  if (word === 'begin' || (word === 'start' && m?.[2]?.toLowerCase() === 'transaction'))
    return { kind: 'begin' };
  // ROLLBACK TO SAVEPOINT stays inside the transaction.
  if (word === 'rollback' && m?.[2]?.toLowerCase() === 'to') return READ;
  if (word === 'commit' || word === 'rollback' || word === 'end') return { kind: 'end' };
  return UNKNOWN_WRITE;
}

function effectOf(q: CompiledQuery): Effect {
  const node = q.query as OperationNode & Record<string, unknown>;
  switch (node.kind) {
    case 'SelectQueryNode':
      return READ;
    case 'InsertQueryNode':
      return writeOf([node.into as OperationNode | undefined]);
    case 'UpdateQueryNode':
      return writeOf([node.table as OperationNode | undefined]);
    case 'DeleteQueryNode':
      return writeOf((node.from as { froms: OperationNode[] }).froms);
    case 'MergeQueryNode':
      return writeOf([node.into as OperationNode]);
    case 'RawNode':
      return rawEffect(q.sql);
    default:
      return UNKNOWN_WRITE; // DDL
  }
}

/** One pooled connection and the writes of its open transaction, reported at COMMIT. */
class WatchedConnection implements DatabaseConnection {
  inTransaction = false;
  private pending = new Set<string>();
  private pendingUnknown = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly changes: TableChanges,
  ) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const effect = effectOf(q);
    if (effect.kind === 'read') return this.inner.executeQuery<R>(q);
    if (effect.kind === 'begin') {
      const r = await this.inner.executeQuery<R>(q);
      this.begin();
      return r;
    }
    if (effect.kind === 'end') {
      try {
        return await this.inner.executeQuery<R>(q);
      } finally {
        this.end();
      }
    }
    if (this.inTransaction) {
      this.record(effect.tables);
      return this.inner.executeQuery<R>(q);
    }
    try {
      return await this.inner.executeQuery<R>(q);
    } finally {
      // Reported even when it failed: a report too many only costs a cache miss.
      this.changes.committed(effect.tables);
    }
  }

  streamQuery<R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    const effect = effectOf(q);
    if (effect.kind !== 'write') return this.inner.streamQuery<R>(q, chunkSize);
    return this.streamWrite<R>(q, effect.tables, chunkSize);
  }

  private async *streamWrite<R>(q: CompiledQuery, tables: ReadonlySet<string> | null, chunkSize?: number) {
    if (this.inTransaction) this.record(tables);
    try {
      yield* this.inner.streamQuery<R>(q, chunkSize);
    } finally {
      if (!this.inTransaction) this.changes.committed(tables);
    }
  }

  begin(): void {
    this.inTransaction = true;
    this.pending = new Set();
    this.pendingUnknown = false;
  }

  /**
   * After COMMIT or ROLLBACK (or when the connection goes back to the pool). A rollback is
   * reported too: MySQL commits DDL implicitly, and a report too many is harmless.
   */
  end(): void {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    if (this.pendingUnknown) this.changes.committed(null);
    else if (this.pending.size) this.changes.committed(this.pending);
    this.pending = new Set();
    this.pendingUnknown = false;
  }

  private record(tables: ReadonlySet<string> | null): void {
    if (tables === null) this.pendingUnknown = true;
    else for (const t of tables) this.pending.add(t);
  }
}

class WatchingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, WatchedConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly changes: TableChanges,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const c = await this.inner.acquireConnection();
    let w = this.wrapped.get(c);
    if (!w) {
      w = new WatchedConnection(c, this.changes);
      this.wrapped.set(c, w);
    }
    return w;
  }

  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const w = c as WatchedConnection;
    await this.inner.beginTransaction(w.inner, settings);
    w.begin();
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    try {
      await this.inner.commitTransaction(w.inner);
    } finally {
      w.end();
    }
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    try {
      await this.inner.rollbackTransaction(w.inner);
    } finally {
      w.end();
    }
  }

  async savepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.savepoint) throw new Error('The `savepoint` method is not supported by this driver');
    return this.inner.savepoint((c as WatchedConnection).inner, name, compile);
  }

  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.rollbackToSavepoint)
      throw new Error('The `rollbackToSavepoint` method is not supported by this driver');
    return this.inner.rollbackToSavepoint((c as WatchedConnection).inner, name, compile);
  }

  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.releaseSavepoint)
      throw new Error('The `releaseSavepoint` method is not supported by this driver');
    return this.inner.releaseSavepoint((c as WatchedConnection).inner, name, compile);
  }

  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    w.end(); // a raw BEGIN left open: report what it wrote rather than lose it
    return this.inner.releaseConnection(w.inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
