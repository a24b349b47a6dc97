import type { Insertable, Selectable } from 'kysely';
import type { LifecycleRow as LifecycleRowRaw } from '../schema/database-types.js';
export type LifecycleRow = Selectable<LifecycleRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';

export type NewLifecycleRow = Omit<Insertable<LifecycleRowRaw>, 'change_number'>;

export async function insertLifecycle(db: Db, row: NewLifecycleRow): Promise<void> {
  await db
    .insertInto('lifecycles')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function getLifecycle(db: Db, spaceId: string, id: string): Promise<LifecycleRow | undefined> {
  return db
    .selectFrom('lifecycles')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listLifecycles(db: Db, spaceId: string, f: ListFilter): Promise<Page<LifecycleRow>> {
  return pageOf<LifecycleRow>(db.selectFrom('lifecycles').where('space_id', '=', spaceId), f);
}

export async function countLifecycles(db: Db, spaceId: string): Promise<number> {
  const r = await db
    .selectFrom('lifecycles')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('space_id', '=', spaceId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
