import { Type } from 'typebox';
import { taskResource } from '../../core/task-view-service.js';
import { UsageError } from '../../lib/errors.js';
import { searchTasks } from '../../storage/repositories/task-search-repository.js';
import { Collection, collection, ListQuery, listFilter, splitList } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { responses, SpaceParams } from '../schemas/common-schemas.js';
import { ServerTaskSchema } from '../schemas/resource-schemas.js';

const SearchQuery = Type.Intersect([
  ListQuery,
  Type.Object({
    states: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    name: Type.Optional(Type.String()),
    project: Type.Optional(Type.String()),
    environment: Type.Optional(Type.String()),
    fromQueueDate: Type.Optional(Type.String()),
    toQueueDate: Type.Optional(Type.String()),
  }),
]);

function date(v: string | undefined, what: string): string | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new UsageError(`${what} must be a date such as 2025-01-31 or 2025-01-31T12:00:00Z.`, {
      code: 'REQUEST_INVALID',
    });
  return new Date(t).toISOString();
}

/** The task list the portal filters: state, project, environment and queue date (Octopus's query names). */
export function taskSearchRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/tasks/search',
    {
      schema: {
        tags: ['Tasks'],
        summary:
          'Tasks newest first, filtered by states, task name, project, environment and queue date range',
        params: SpaceParams,
        querystring: SearchQuery,
        response: responses(Collection(ServerTaskSchema)),
      },
    },
    async (req) => {
      const q = req.query as typeof req.query & Record<string, string | string[] | undefined>;
      const f = listFilter(req.query);
      const page = await searchTasks(db, {
        ...f,
        spaceId: req.params.spaceId,
        states: splitList(q.states as string | string[] | undefined),
        kind: (q.name as string | undefined) || undefined,
        projectId: (q.project as string | undefined) || undefined,
        environmentId: (q.environment as string | undefined) || undefined,
        from: date(q.fromQueueDate as string | undefined, 'fromQueueDate'),
        to: date(q.toQueueDate as string | undefined, 'toQueueDate'),
      });
      return collection(
        'Task',
        { total: page.total, items: page.rows.map(taskResource) },
        f,
        `/api/${req.params.spaceId}/tasks/search`,
      );
    },
  );
}
