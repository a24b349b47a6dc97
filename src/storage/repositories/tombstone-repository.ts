import { nowIso } from '../../lib/clock.js';
import { nextChangeNumber } from './id-allocator.js';
import type { Db } from './list-query.js';

/** A delete leaves a tombstone so a copy taken while the server runs can be caught up later. */
export async function addTombstone(db: Db, table: string, rowId: string): Promise<void> {
  const change_number = await nextChangeNumber(db);
  await db.deleteFrom('tombstones').where('table_name', '=', table).where('row_id', '=', rowId).execute();
  await db
    .insertInto('tombstones')
    .values({ table_name: table, row_id: rowId, deleted: nowIso(), change_number })
    .execute();
}
