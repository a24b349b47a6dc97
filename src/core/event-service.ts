import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import { insertEvent } from '../storage/repositories/event-repository.js';
import { nextId } from '../storage/repositories/id-allocator.js';
import type { Database } from '../storage/schema/database-types.js';

/**
 * The audit trail. Every change (Created, Modified, Deleted) and every task transition
 * (DeploymentQueued, DeploymentStarted, DeploymentSucceeded, DeploymentFailed, ...) writes one
 * event. `relatedDocumentIds` is what `GET /api/events?regarding=` matches on.
 */
export interface EventInput {
  category: string;
  message: string;
  relatedDocumentIds: string[];
  userId?: string | null;
  username?: string | null;
  spaceId?: string | null;
  details?: Record<string, unknown>;
}

/** Writes one event; pass a transaction as `db` so the event commits with the change it records. */
export async function writeEvent(db: Kysely<Database>, input: EventInput): Promise<string> {
  const id = await nextId(db, 'Events');
  const related = [...new Set(input.relatedDocumentIds.filter(Boolean))];
  await insertEvent(
    db,
    {
      id,
      space_id: input.spaceId ?? null,
      category: input.category,
      message: input.message,
      occurred: nowIso(),
      user_id: input.userId ?? null,
      username: input.username ?? null,
      related_document_ids: JSON.stringify(related),
      details_json: JSON.stringify(input.details ?? {}),
    },
    related,
  );
  return id;
}
