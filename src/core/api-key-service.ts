import type { Kysely } from 'kysely';
import { NotFoundError } from '../lib/errors.js';
import { deleteApiKey, getApiKey } from '../storage/repositories/api-key-repository.js';
import type { Database } from '../storage/schema/database-types.js';
import { type Actor, eventActor, requireAdministrator } from './actor.js';
import { writeEvent } from './event-service.js';

/** Revokes an API key: one's own, or anybody's for an administrator. The key stops working at once. */
export async function revokeApiKey(db: Kysely<Database>, actor: Actor, userId: string, keyId: string) {
  if (actor.userId !== userId) requireAdministrator(actor, "revoke another user's API keys");
  await db.transaction().execute(async (tx) => {
    const row = await getApiKey(tx, keyId);
    if (!row || row.user_id !== userId)
      throw new NotFoundError(`The user ${userId} has no API key ${keyId}.`, { code: 'API_KEY_NOT_FOUND' });
    await deleteApiKey(tx, keyId);
    await writeEvent(tx, {
      category: 'Deleted',
      message: `The API key ${keyId} (${row.purpose}) was revoked.`,
      relatedDocumentIds: [userId, keyId],
      ...eventActor(actor),
    });
  });
}
