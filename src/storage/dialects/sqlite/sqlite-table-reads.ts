import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { TableSpec } from '../../schema/column-types.js';
import type { Database } from '../../schema/database-types.js';
import { INTEGERS_AS_NUMBERS, ROWS_AS_ARRAYS } from '../dialect.js';
import type { RenderedPage, TableReads } from '../table-reads.js';
import { renderedPageHolds, renderedPageSelect, renderedRowSql } from './sqlite-row-text.js';

/** One page rendered by SQLite, or undefined where it is not provably the encoder's text (sqlite-row-text.ts). */
async function renderPage(
  db: Kysely<Database>,
  table: TableSpec,
  page: RawBuilder<unknown>,
  byRowid: boolean,
): Promise<RenderedPage | undefined> {
  const inner = sql`SELECT ${sql.raw(renderedRowSql(table))}${byRowid ? sql.raw(', rowid AS "r$"') : sql``} ${page}`;
  const hints = `${ROWS_AS_ARRAYS} ${INTEGERS_AS_NUMBERS}`;
  const r = await sql<
    unknown[]
  >`${sql.raw(hints)} ${sql.raw(renderedPageSelect(byRowid))} (${inner})`.execute(db);
  const [text, rows, lastRowid, bad, slashes] = r.rows[0] as [Buffer | null, number, unknown, number, number];
  if (rows === 0) return { rows: 0 };
  if (!text || !renderedPageHolds(table, text, rows, bad, slashes)) return undefined;
  return { text, rows, lastRowid };
}

/**
 * SQLite is read page by page: natural order is the rowid; each page is first asked of SQLite as
 * row text it writes itself; and, because better-sqlite3 answers synchronously, a reader yields to
 * the event loop once per page (a reader whose consumer never pushes back would otherwise read a
 * whole table in one turn and starve every other socket).
 */
export const sqliteTableReads: TableReads = {
  naturalOrderByRowid: true,
  answersSynchronously: true,
  renderPage,
};
