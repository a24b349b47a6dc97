import { Type } from 'typebox';
import { eventResource, listEventResources } from '../../core/event-query-service.js';
import { NotFoundError } from '../../lib/errors.js';
import { getEvent } from '../../storage/repositories/event-repository.js';
import { Collection, collection, DEFAULT_TAKE, splitList } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { IdParams, PageValue, responses, SpaceParams } from '../schemas/common-schemas.js';
import { EventSchema } from '../schemas/resource-schemas.js';

const tags = ['Events'];
const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);
const EventQuery = Type.Object({
  skip: Type.Optional(PageValue),
  take: Type.Optional(PageValue),
  regarding: Type.Optional(StringOrList),
  regardingAny: Type.Optional(StringOrList),
  eventCategories: Type.Optional(StringOrList),
  users: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'User ids (Users-1,Users-2, or the key repeated): only events those users caused',
    }),
  ),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
});
type EventQueryValue = {
  skip?: number;
  take?: number;
  regarding?: string | string[];
  regardingAny?: string | string[];
  eventCategories?: string | string[];
  users?: string | string[];
  from?: string;
  to?: string;
};

/** An empty list (`users=`) filters nothing, as if the key were absent. */
const nonEmpty = (v: string[] | undefined) => (v?.length ? v : undefined);

const iso = (v: string | undefined) =>
  v && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined;

export function eventRoutes(app: App, { db }: RouteDeps): void {
  const list = async (spaceId: string | undefined, q: EventQueryValue) => {
    const f = { skip: q.skip ?? 0, take: q.take ?? DEFAULT_TAKE };
    const regarding = [...(splitList(q.regarding) ?? []), ...(splitList(q.regardingAny) ?? [])];
    const page = await listEventResources(db, {
      ...f,
      spaceId,
      regarding: regarding.length ? regarding : undefined,
      categories: splitList(q.eventCategories),
      userIds: nonEmpty(splitList(q.users)),
      from: iso(q.from),
      to: iso(q.to),
    });
    return collection('Event', page, f, spaceId ? `/api/${spaceId}/events` : '/api/events');
  };
  app.get(
    '/api/events',
    {
      schema: {
        tags,
        summary: 'Audit events, newest first',
        querystring: EventQuery,
        response: responses(Collection(EventSchema)),
      },
    },
    async (req) => list(undefined, req.query),
  );
  app.get(
    '/api/:spaceId/events',
    {
      schema: {
        tags,
        summary: 'Audit events of the space, newest first',
        params: SpaceParams,
        querystring: EventQuery,
        response: responses(Collection(EventSchema)),
      },
    },
    async (req) => list(req.params.spaceId, req.query),
  );
  app.get(
    '/api/events/:id',
    { schema: { tags, summary: 'An audit event', params: IdParams, response: responses(EventSchema) } },
    async (req) => {
      const row = await getEvent(db, req.params.id);
      if (!row) throw new NotFoundError(`The event ${req.params.id} does not exist.`, { code: 'NOT_FOUND' });
      return eventResource(row);
    },
  );
}
