import type { Db } from './list-query.js';
import { addTombstone } from './tombstone-repository.js';
import type { ApiKeyRow } from './user-repository.js';

export async function getApiKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Deletes the key and leaves a tombstone (api_keys is a replicated document). */
export async function deleteApiKey(db: Db, id: string): Promise<void> {
  await db.deleteFrom('api_keys').where('id', '=', id).execute();
  await addTombstone(db, 'api_keys', id);
}
