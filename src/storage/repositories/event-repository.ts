import { type Kysely, sql } from 'kysely';
import type { Database, EventRow } from '../schema/database-types.js';

export type { EventRow };

/**
 * Audit events. `event_references` holds one row per (document, event) so `regarding=<id>`
 * is an index lookup instead of a LIKE over the JSON array of related ids.
 */
export async function insertEvent(db: Kysely<Database>, row: EventRow, references: string[]): Promise<void> {
  await db.insertInto('events').values(row).execute();
  const unique = [...new Set(references.filter(Boolean))];
  if (unique.length) {
    await db
      .insertInto('event_references')
      .values(unique.map((document_id) => ({ document_id, event_id: row.id, occurred: row.occurred })))
      .execute();
  }
}

export interface EventQuery {
  spaceId?: string;
  regarding?: string[];
  categories?: string[];
  /** Only events caused by these users (`user_id`); an unknown id matches nothing. */
  userIds?: string[];
  from?: string;
  to?: string;
  skip: number;
  take: number;
}

/**
 * Newest first. Ids share a prefix, so ordering by (length, id) inside one millisecond is the
 * numeric order on every engine without engine-specific casts.
 */
export async function listEvents(
  db: Kysely<Database>,
  q: EventQuery,
): Promise<{ total: number; rows: EventRow[] }> {
  let base = db.selectFrom('events');
  if (q.regarding?.length) {
    const ids = q.regarding;
    base = base.where('id', 'in', (eb) =>
      eb.selectFrom('event_references').select('event_id').where('document_id', 'in', ids),
    );
  }
  if (q.spaceId) {
    const spaceId = q.spaceId;
    base = base.where((eb) => eb.or([eb('space_id', '=', spaceId), eb('space_id', 'is', null)]));
  }
  if (q.categories?.length) base = base.where('category', 'in', q.categories);
  if (q.userIds?.length) base = base.where('user_id', 'in', q.userIds);
  if (q.from) base = base.where('occurred', '>=', q.from);
  if (q.to) base = base.where('occurred', '<=', q.to);
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy('occurred', 'desc')
    .orderBy(sql`length(id)`, 'desc')
    .orderBy('id', 'desc')
    .offset(q.skip)
    .limit(q.take)
    .execute();
  return { total: Number(count?.n ?? 0), rows };
}

export async function getEvent(db: Kysely<Database>, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}
