import { Type } from 'typebox';
import {
  createSpace,
  listSpaceResources,
  modifySpace,
  removeSpace,
  requireSpace,
  type SpaceInput,
  spaceResource,
} from '../../core/space-service.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { AnyJson, IdParams, NStr, responses } from '../schemas/common-schemas.js';
import { SpaceSchema } from '../schemas/resource-schemas.js';

const SpaceBody = Type.Object({
  Name: Type.Optional(Type.String()),
  Slug: Type.Optional(Type.String()),
  Description: Type.Optional(NStr),
  IsDefault: Type.Optional(Type.Boolean()),
  TaskQueueStopped: Type.Optional(Type.Boolean()),
  SpaceManagersTeams: Type.Optional(Type.Array(Type.String())),
  SpaceManagersTeamMembers: Type.Optional(Type.Array(Type.String())),
});

const tags = ['Spaces'];
const input = (b: unknown) => ({
  ...(b as SpaceInput),
  Description: (b as SpaceInput).Description ?? undefined,
});

export function spaceRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/spaces',
    {
      schema: {
        tags,
        summary: 'The spaces (partialName filters by name, as the client resolves a space)',
        querystring: ListQuery,
        response: responses(Collection(SpaceSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      return collection('Space', await listSpaceResources(db, f), f, '/api/spaces');
    },
  );
  app.get(
    '/api/spaces/:id',
    { schema: { tags, summary: 'A space', params: IdParams, response: responses(SpaceSchema) } },
    async (req) => spaceResource(await requireSpace(db, req.params.id)),
  );
  app.post(
    '/api/spaces',
    {
      schema: {
        tags,
        summary: 'Create a space, with its default project group and lifecycle',
        body: SpaceBody,
        response: responses(SpaceSchema, 201),
      },
    },
    async (req, reply) => reply.status(201).send(await createSpace(db, req.actor, input(req.body))),
  );
  app.put(
    '/api/spaces/:id',
    {
      schema: {
        tags,
        summary: 'Change a space (name, description, TaskQueueStopped)',
        params: IdParams,
        body: SpaceBody,
        response: responses(SpaceSchema),
      },
    },
    async (req) => modifySpace(db, req.actor, req.params.id, input(req.body)),
  );
  app.delete(
    '/api/spaces/:id',
    {
      schema: {
        tags,
        summary: 'Delete a space (not the default one)',
        params: IdParams,
        response: responses(AnyJson),
      },
    },
    async (req, reply) => {
      await removeSpace(db, req.actor, req.params.id);
      return reply.status(200).send({});
    },
  );
}
