import type { Selectable } from 'kysely';
import type { PortalSessionRow, SignInFailureRow } from '../schema/database-types.js';
import { nextChangeNumber } from './id-allocator.js';
import type { Db } from './list-query.js';

export type SessionRow = Selectable<PortalSessionRow>;
export type FailureRow = Selectable<SignInFailureRow>;

export async function insertSession(db: Db, row: Omit<SessionRow, 'change_number'>): Promise<void> {
  await db
    .insertInto('portal_sessions')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function getSession(db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('portal_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Sliding expiry: coordination state like a task lease, so no change number. */
export async function touchSession(db: Db, id: string, lastSeen: string): Promise<void> {
  await db.updateTable('portal_sessions').set({ last_seen: lastSeen }).where('id', '=', id).execute();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('portal_sessions').where('id', '=', id).execute();
}

export async function deleteExpiredSessions(db: Db, now: string, idleBefore: string): Promise<void> {
  await db
    .deleteFrom('portal_sessions')
    .where((eb) => eb.or([eb('expires', '<', now), eb('last_seen', '<', idleBefore)]))
    .execute();
}

export async function getFailures(db: Db, username: string): Promise<FailureRow | undefined> {
  return db
    .selectFrom('sign_in_failures')
    .selectAll()
    .where('username_normalized', '=', username)
    .executeTakeFirst();
}

export async function insertFailures(db: Db, row: Omit<FailureRow, 'change_number'>): Promise<void> {
  await db
    .insertInto('sign_in_failures')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

/** Compare-and-set on the count read, so two nodes counting the same failure cannot both win. */
export async function updateFailures(
  db: Db,
  row: Omit<FailureRow, 'change_number'>,
  expectedFailures: number,
): Promise<boolean> {
  const r = await db
    .updateTable('sign_in_failures')
    .set({
      failures: row.failures,
      first_failure: row.first_failure,
      locked_until: row.locked_until,
      change_number: await nextChangeNumber(db),
    })
    .where('username_normalized', '=', row.username_normalized)
    .where('failures', '=', expectedFailures)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function clearFailures(db: Db, username: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('username_normalized', '=', username).execute();
}
