import type { Kysely } from 'kysely';
import { type EventQuery, type EventRow, listEvents } from '../storage/repositories/event-repository.js';
import type { Database } from '../storage/schema/database-types.js';

/** Events in Octopus's shape (the fields a real server's capture shows). */
export function eventResource(row: EventRow) {
  let related: string[] = [];
  let details: Record<string, unknown> = {};
  try {
    related = JSON.parse(row.related_document_ids) as string[];
    details = JSON.parse(row.details_json || '{}') as Record<string, unknown>;
  } catch {
    // A damaged row still lists, with what could be read.
  }
  return {
    Id: row.id,
    SpaceId: row.space_id,
    Category: row.category,
    Message: row.message,
    MessageHtml: row.message,
    MessageReferences: [] as unknown[],
    RelatedDocumentIds: related,
    Occurred: row.occurred,
    UserId: row.user_id,
    Username: row.username,
    IsService: false,
    IdentityEstablishedWith: row.user_id ? 'API key' : '',
    UserAgent: '',
    Comments: null,
    Details: Object.keys(details).length ? JSON.stringify(details) : null,
    ChangeDetails: { DocumentContext: null, Differences: null },
    IpAddress: null,
    Links: { Self: `/api/events/${row.id}` },
  };
}

export async function listEventResources(db: Kysely<Database>, q: EventQuery) {
  const page = await listEvents(db, q);
  return { total: page.total, items: page.rows.map(eventResource) };
}
