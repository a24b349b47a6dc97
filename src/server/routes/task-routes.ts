import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { type Actor, readScope, requireAdministrator } from '../../core/actor.js';
import { DEPLOY_TASK_KIND } from '../../core/deployment-service.js';
import {
  listTaskResources,
  requireTask,
  taskDetails,
  taskRawLog,
  taskResource,
} from '../../core/task-view-service.js';
import { requestCancel } from '../../tasks/task-queue.js';
import { Collection, collection, ListQuery, listFilter, splitList } from '../collection.js';
import { JsonBodyCache } from '../read-caches.js';
import type { App, RouteDeps } from '../route-deps.js';
import { IdParams, responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import { ServerTaskSchema, TaskDetailsSchema } from '../schemas/resource-schemas.js';

const tags = ['Tasks'];
const TaskQuery = Type.Intersect([
  ListQuery,
  Type.Object({
    states: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    name: Type.Optional(Type.String()),
  }),
]);
const Raw = { 200: Type.String(), 404: Type.Unknown() };

type TaskQueryValue = { states?: string | string[]; name?: string };

export function taskRoutes(app: App, { db, changes, clock }: RouteDeps): void {
  // Every task waiter polls these lists; answers are shared until a task is written (read-caches.ts).
  const lists = new JsonBodyCache(() => changes.version('server_tasks'), clock);
  // Unknown ids answer 200 with empty Items: the client's waiter turns that into "Unknown task Id(s)".
  const list = (actor: Actor, reply: FastifyReply, spaceId: string | undefined, query: unknown) => {
    const f = listFilter(query as never);
    const q = query as TaskQueryValue;
    const filter = { ...f, spaceId, states: splitList(q.states), kind: q.name };
    const key = `${readScope(actor)} ${JSON.stringify(filter)}`;
    return lists.send(reply, key, async () =>
      collection(
        'Task',
        await listTaskResources(db, filter),
        f,
        spaceId ? `/api/${spaceId}/tasks` : '/api/tasks',
      ),
    );
  };
  app.get(
    '/api/:spaceId/tasks',
    {
      schema: {
        tags,
        summary:
          'The server tasks of the space, newest first (ids, states, name filter; unknown ids give empty Items)',
        params: SpaceParams,
        querystring: TaskQuery,
        response: responses(Collection(ServerTaskSchema)),
      },
    },
    async (req, reply) => list(req.actor, reply, req.params.spaceId, req.query),
  );
  app.get(
    '/api/tasks',
    {
      schema: {
        tags,
        summary: 'The server tasks of every space, newest first',
        querystring: TaskQuery,
        response: responses(Collection(ServerTaskSchema)),
      },
    },
    async (req, reply) => list(req.actor, reply, undefined, req.query),
  );
  app.get(
    '/api/tasks/:id',
    {
      schema: {
        tags,
        summary: 'A server task: State, IsCompleted, FinishedSuccessfully, ErrorMessage',
        params: IdParams,
        response: responses(ServerTaskSchema),
      },
    },
    async (req) => taskResource(await requireTask(db, req.params.id)),
  );
  app.get(
    '/api/:spaceId/tasks/:id',
    {
      schema: {
        tags,
        summary: 'A server task of the space',
        params: SpaceIdParams,
        response: responses(ServerTaskSchema),
      },
    },
    async (req) => taskResource(await requireTask(db, req.params.id, req.params.spaceId)),
  );
  app.get(
    '/api/:spaceId/tasks/:id/details',
    {
      schema: {
        tags,
        summary: "A server task with its activity tree and each activity's log",
        params: SpaceIdParams,
        response: responses(TaskDetailsSchema),
      },
    },
    async (req) => taskDetails(db, req.params.id, req.params.spaceId),
  );
  app.get(
    '/api/tasks/:id/details',
    {
      schema: {
        tags,
        summary: "A server task with its activity tree and each activity's log",
        params: IdParams,
        response: responses(TaskDetailsSchema),
      },
    },
    async (req) => taskDetails(db, req.params.id),
  );
  app.get(
    '/api/:spaceId/tasks/:id/raw',
    { schema: { tags, summary: "A server task's whole log as text", params: SpaceIdParams, response: Raw } },
    async (req, reply) =>
      reply.type('text/plain; charset=utf-8').send(await taskRawLog(db, req.params.id, req.params.spaceId)),
  );
  app.get(
    '/api/tasks/:id/raw',
    { schema: { tags, summary: "A server task's whole log as text", params: IdParams, response: Raw } },
    async (req, reply) => reply.type('text/plain; charset=utf-8').send(await taskRawLog(db, req.params.id)),
  );

  const cancel = async (actor: Actor, id: string, spaceId?: string) => {
    const task = await requireTask(db, id, spaceId);
    // Deployers may cancel deployments; other tasks (backups, moves) are the administrators'.
    if (task.kind !== DEPLOY_TASK_KIND) requireAdministrator(actor, `cancel ${task.kind} tasks`);
    await requestCancel(db, id);
    return taskResource(await requireTask(db, id));
  };
  app.post(
    '/api/tasks/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a queued or running task (it ends Canceled)',
        params: IdParams,
        response: responses(ServerTaskSchema),
      },
    },
    async (req) => cancel(req.actor, req.params.id),
  );
  app.post(
    '/api/:spaceId/tasks/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a queued or running task of the space (it ends Canceled)',
        params: SpaceIdParams,
        response: responses(ServerTaskSchema),
      },
    },
    async (req) => cancel(req.actor, req.params.id, req.params.spaceId),
  );
}
