import { sql } from 'kysely';
import { SHORT_TEXT_MAX, textProblem } from '../../lib/portable-domain.js';
import { TABLES } from '../../storage/schema/tables.js';
import type { Storage } from '../../storage/storage.js';

export interface NonPortableValue {
  table: string;
  /** The row's primary key values, joined with "/". */
  row: string;
  column: string;
  problem: string;
}

const TEXT_TYPES = new Set(['id', 'text', 'longtext', 'json']);

/**
 * Values of the source outside the portable domain (lib/portable-domain.ts), which the target
 * engine may refuse in the middle of a copy: old rows, written before the API enforced it (or by
 * hand). The engine looks for them (each dialect's `nonPortableText`), at most `limit` a column.
 */
export async function findNonPortableValues(storage: Storage, limit = 5): Promise<NonPortableValue[]> {
  const { quoteIdentifier: q, nonPortableText } = storage.capabilities;
  const found: NonPortableValue[] = [];
  for (const table of TABLES) {
    for (const column of table.columns) {
      if (!TEXT_TYPES.has(column.type)) continue;
      const short = column.type === 'id' || column.type === 'text';
      const condition = nonPortableText(q(column.name), short ? SHORT_TEXT_MAX : undefined);
      if (!condition) continue;
      const keys = table.primaryKey.map((k) => `${q(k)} AS ${q(`k_${k}`)}`).join(', ');
      const rows = await sql
        .raw<Record<string, unknown>>(
          `SELECT ${keys}, ${q(column.name)} AS ${q('v')} FROM ${q(table.name)} WHERE ${condition} LIMIT ${limit}`,
        )
        .execute(storage.db);
      for (const r of rows.rows) {
        const v = String(r.v ?? '');
        found.push({
          table: table.name,
          row: table.primaryKey.map((k) => String(r[`k_${k}`])).join('/'),
          column: column.name,
          problem:
            textProblem(v) ?? `is ${v.length} characters long; at most ${SHORT_TEXT_MAX} fit on every engine`,
        });
      }
    }
  }
  return found;
}
