import type { DialectAdapter, Kysely, Dialect as KyselyDialect, RawBuilder } from 'kysely';
import type { CanonicalValue } from '../codecs.js';
import type { TableSpec } from '../schema/column-types.js';
import type { Database } from '../schema/database-types.js';

/**
 * The order rows are read in:
 *   key      primary-key order, the same on every engine: what content hashes in manifests mean
 *   natural  the cheapest order the engine has, stable while the table does not change:
 *            PostgreSQL's heap (a sequential scan: no index, no sort), SQLite's rowid, InnoDB's
 *            clustered primary key. For a table that was filled by one bulk load into an empty
 *            table it is the order the rows were loaded in where the engine keeps load order
 *            (EngineCapabilities.loadOrderIsNatural), which is what lets a copy be verified
 *            without sorting either side.
 */
export type ReadOrder = 'key' | 'natural';

/** One page of rows as row text the engine wrote itself. */
export interface RenderedPage {
  /** Undefined for a page without rows. */
  text?: Buffer;
  rows: number;
  lastRowid?: unknown;
}

/**
 * How a Kysely handle's engine reads whole tables (storage/table-reader.ts). The handle carries it
 * (on its adapter), so any handle answers, a pool or one connection of it such as a snapshot's.
 */
export interface TableReads {
  /**
   * Streams the whole table in one statement, as row text in pieces that need not end at a line
   * end (the reader makes whole lines): PostgreSQL's COPY ... TO STDOUT. Absent where the engine is
   * read page by page (the table reader's keyset pagination).
   */
  streamTable?(
    db: Kysely<Database>,
    table: TableSpec,
    order: ReadOrder,
    after: CanonicalValue[] | undefined,
  ): AsyncIterable<Buffer>;
  /**
   * Natural order is the rowid, paged like a key and selected after the line's columns (SQLite);
   * where false, a paged engine's natural order is its primary key (InnoDB).
   */
  readonly naturalOrderByRowid: boolean;
  /** The driver answers synchronously: a paged reader yields to the event loop once per page. */
  readonly answersSynchronously: boolean;
  /**
   * A page (`FROM ... ORDER BY ... LIMIT n`, as the reader pages) as row text the engine writes
   * itself, or undefined where that text is not provably the encoder's; the reader then encodes
   * the page in JavaScript. Absent where the engine has no such path.
   */
  renderPage?(
    db: Kysely<Database>,
    table: TableSpec,
    page: RawBuilder<unknown>,
    byRowid: boolean,
  ): Promise<RenderedPage | undefined>;
}

/** Keyset pagination in key order, rows encoded in JavaScript: what a handle without table reads gets. */
const PAGED: TableReads = { naturalOrderByRowid: false, answersSynchronously: false };

const readsOfAdapter = new WeakMap<DialectAdapter, TableReads>();

/** `dialect` whose handles read tables with `reads`. */
export function withTableReads(dialect: KyselyDialect, reads: TableReads): KyselyDialect {
  return {
    createAdapter: () => {
      const adapter = dialect.createAdapter();
      readsOfAdapter.set(adapter, reads);
      return adapter;
    },
    createDriver: () => dialect.createDriver(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

export function tableReadsOf(db: Kysely<Database>): TableReads {
  return readsOfAdapter.get(db.getExecutor().adapter) ?? PAGED;
}
