import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from '../schema/database-types.js';

/** The filters every Octopus collection route takes. `ids` arrive already split. */
export interface ListFilter {
  ids?: string[];
  partialName?: string;
  skip: number;
  take: number;
}

export interface Page<T> {
  total: number;
  rows: T[];
}

// biome-ignore lint/suspicious/noExplicitAny: a builder over any table; callers pick the row type.
type AnyBuilder = SelectQueryBuilder<any, any, any>;

/**
 * Applies ids / partialName (case-insensitive substring, through lower() so it behaves the same
 * on every engine's collation) and skip/take, and counts the total before paging.
 * Rows come in creation order (or newest first with `desc`): ids share a prefix, so (length, id)
 * is numeric order on every engine.
 */
export async function pageOf<T>(
  base: AnyBuilder,
  f: ListFilter,
  nameColumn = 'name',
  order: 'asc' | 'desc' = 'asc',
  /** Columns that order rows the same way and have an index (tasks: queue_time). */
  orderColumns?: string[],
): Promise<Page<T>> {
  let q = base;
  if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where(sql<boolean>`1 = 0`);
  if (f.partialName) {
    q = q.where(sql`lower(${sql.ref(nameColumn)})`, 'like', `%${f.partialName.toLowerCase()}%`);
  }
  const count = await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  let ordered = q.selectAll();
  for (const c of orderColumns ?? []) ordered = ordered.orderBy(c, order);
  if (!orderColumns) ordered = ordered.orderBy(sql`length(id)`, order);
  const rows = await ordered.orderBy('id', order).offset(f.skip).limit(f.take).execute();
  return { total: Number((count as { n?: number | string } | undefined)?.n ?? 0), rows: rows as T[] };
}

export type Db = Kysely<Database>;
