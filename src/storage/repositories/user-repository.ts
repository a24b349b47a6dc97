import type { Insertable, Selectable } from 'kysely';
import type { ApiKeyRow as ApiKeyRowRaw, UserRow as UserRowRaw } from '../schema/database-types.js';
export type ApiKeyRow = Selectable<ApiKeyRowRaw>;
export type UserRow = Selectable<UserRowRaw>;

import { nextChangeNumber } from './id-allocator.js';
import { type Db, type ListFilter, type Page, pageOf } from './list-query.js';

export type NewUserRow = Omit<Insertable<UserRowRaw>, 'change_number'>;

export async function insertUser(db: Db, row: NewUserRow): Promise<void> {
  await db
    .insertInto('users')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function updateUser(db: Db, row: NewUserRow): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...row, change_number: await nextChangeNumber(db) })
    .where('id', '=', row.id)
    .execute();
}

export async function getUser(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('username_normalized', '=', username.toLowerCase())
    .executeTakeFirst();
}

export async function countUsers(db: Db): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function listUsers(db: Db, f: ListFilter): Promise<Page<UserRow>> {
  return pageOf<UserRow>(db.selectFrom('users'), f, 'username');
}

export async function insertApiKey(
  db: Db,
  row: Omit<Insertable<ApiKeyRowRaw>, 'change_number'>,
): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({ ...row, change_number: await nextChangeNumber(db) })
    .execute();
}

export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}

export async function listUserApiKeys(db: Db, userId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}
