import { type Kysely, sql } from 'kysely';
import { envelopeKeyId, open, seal } from '../../crypto/envelope.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError } from '../../lib/errors.js';
import { nextChangeNumber } from '../../storage/repositories/id-allocator.js';
import type { ColumnSpec, TableSpec } from '../../storage/schema/column-types.js';
import type { Database } from '../../storage/schema/database-types.js';
import { TABLES } from '../../storage/schema/tables.js';

/**
 * Sealed values can sit in any text column of any table: a whole column (variables.value), or
 * inside a JSON document (a release's variable snapshot). So the rewrite is generic: every table,
 * every text/longtext/json column, every envelope found by pattern, rewritten in place so the bytes
 * around it (the rest of the JSON) stay exactly as they were. Callers run it inside ONE transaction.
 */
const ENVELOPE = /cuttle1\.[0-9a-f]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const PROBE = /cuttle1\.[0-9a-f]{16}\./;
const WHOLE = new RegExp(`^${ENVELOPE.source}$`);
const TEXT_TYPES = new Set(['text', 'longtext', 'json']);

export interface SealedLocation {
  table: string;
  column: ColumnSpec;
  /** Primary key values of the row, in TableSpec order. */
  key: unknown[];
  /** True when the envelope is the whole column value, false when it sits inside other text. */
  whole: boolean;
}

/** Returns the replacement text; null (whole nullable values only) stores NULL. */
export type EnvelopeTransform = (envelope: string, at: SealedLocation) => string | null;

export interface ColumnCount {
  table: string;
  column: string;
  rows: number;
  values: number;
}

export interface RewriteOptions {
  /** Rows to leave alone (e.g. the canary, which the caller rewrites itself). */
  skipRow?: (table: string, key: unknown[]) => boolean;
  /** Called for every row that changed, with the columns that changed. */
  onRow?: (table: string, key: unknown[], columns: string[]) => void;
}

/** Rows with "cuttle1." in any text column (LIKE narrows, the pattern decides). */
function candidateRows(db: Kysely<Database>, table: TableSpec, textCols: ColumnSpec[]) {
  const selected = [...new Set([...table.primaryKey, ...textCols.map((c) => c.name)])];
  const where = sql.join(
    textCols.map((c) => sql`${sql.ref(c.name)} LIKE ${'%cuttle1.%'}`),
    sql` OR `,
  );
  return sql<Record<string, unknown>>`SELECT ${sql.join(selected.map((n) => sql.ref(n)))} FROM ${sql.table(
    table.name,
  )} WHERE ${where}`.execute(db);
}

export async function rewriteEnvelopes(
  db: Kysely<Database>,
  transform: EnvelopeTransform,
  opts: RewriteOptions = {},
): Promise<ColumnCount[]> {
  const counts = new Map<string, ColumnCount>();
  for (const table of TABLES) {
    const textCols = table.columns.filter((c) => TEXT_TYPES.has(c.type));
    if (!textCols.length) continue;
    const rows = await candidateRows(db, table, textCols);
    const hasChangeNumber = table.columns.some((c) => c.name === 'change_number');
    for (const row of rows.rows) {
      const key = table.primaryKey.map((k) => row[k]);
      if (opts.skipRow?.(table.name, key)) continue;
      const changes: [string, string | null][] = [];
      for (const col of textCols) {
        const value = row[col.name];
        if (typeof value !== 'string' || !PROBE.test(value)) continue;
        let n = 0;
        let next: string | null;
        if (WHOLE.test(value)) {
          n = 1;
          next = transform(value, { table: table.name, column: col, key, whole: true });
          if (next === null && !col.nullable) next = '';
        } else {
          next = value.replace(ENVELOPE, (env) => {
            n++;
            return transform(env, { table: table.name, column: col, key, whole: false }) ?? '';
          });
        }
        if (next === value) continue;
        changes.push([col.name, next]);
        const id = `${table.name}.${col.name}`;
        const c = counts.get(id) ?? { table: table.name, column: col.name, rows: 0, values: 0 };
        c.rows++;
        c.values += n;
        counts.set(id, c);
      }
      if (!changes.length) continue;
      const sets = changes.map(([c, v]) => sql`${sql.ref(c)} = ${v}`);
      if (hasChangeNumber) sets.push(sql`${sql.ref('change_number')} = ${await nextChangeNumber(db)}`);
      const match = sql.join(
        table.primaryKey.map((k, i) => sql`${sql.ref(k)} = ${key[i]}`),
        sql` AND `,
      );
      await sql`UPDATE ${sql.table(table.name)} SET ${sql.join(sets)} WHERE ${match}`.execute(db);
      opts.onRow?.(
        table.name,
        key,
        changes.map(([c]) => c),
      );
    }
  }
  return [...counts.values()];
}

/** Opens each envelope with the old key and seals it with the new one; refuses any third key. */
export function reencryptTransform(oldKey: MasterKey, newKey: MasterKey): EnvelopeTransform {
  return (env, at) => {
    const keyId = envelopeKeyId(env);
    if (keyId === newKey.id) return env;
    if (keyId !== oldKey.id) {
      throw new PreconditionError(
        `A sensitive value in ${at.table}.${at.column.name} is sealed with key ${keyId ?? '?'}, which is neither the current master key (${oldKey.id}) nor the new one.`,
        {
          code: 'MASTER_KEY_WRONG',
          hints: [
            'Nothing was changed. The database holds values from another instance; restore a clean backup or clear them first.',
          ],
        },
      );
    }
    return seal(newKey, open(oldKey, env));
  };
}

/** Clears every envelope: NULL for a nullable whole column, '' otherwise. */
export const clearTransform: EnvelopeTransform = (_env, at) => (at.whole && at.column.nullable ? null : '');

/** Every key id found in sealed values, with how many values use it (a read-only scan). */
export async function envelopeKeyIds(db: Kysely<Database>): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const table of TABLES) {
    const textCols = table.columns.filter((c) => TEXT_TYPES.has(c.type));
    if (!textCols.length) continue;
    const rows = await candidateRows(db, table, textCols);
    for (const row of rows.rows) {
      for (const c of textCols) {
        const v = row[c.name];
        if (typeof v !== 'string') continue;
        for (const m of v.matchAll(ENVELOPE)) {
          const id = envelopeKeyId(m[0]) ?? '?';
          ids.set(id, (ids.get(id) ?? 0) + 1);
        }
      }
    }
  }
  return ids;
}
