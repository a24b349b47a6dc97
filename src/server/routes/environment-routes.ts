import { Type } from 'typebox';
import {
  createEnvironment,
  type EnvironmentInput,
  environmentResource,
  listEnvironmentResources,
  modifyEnvironment,
  removeEnvironment,
  requireEnvironment,
} from '../../core/environment-service.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { AnyJson, Int32, NStr, responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import { EnvironmentSchema } from '../schemas/resource-schemas.js';

const EnvironmentBody = Type.Object({
  Name: Type.Optional(Type.String()),
  Description: Type.Optional(NStr),
  SortOrder: Type.Optional(Int32()),
  UseGuidedFailure: Type.Optional(Type.Boolean()),
  AllowDynamicInfrastructure: Type.Optional(Type.Boolean()),
});

const tags = ['Environments'];
const input = (b: unknown): EnvironmentInput => {
  const v = b as EnvironmentInput & { Description?: string | null };
  return { ...v, Description: v.Description ?? undefined };
};

export function environmentRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/environments',
    {
      schema: {
        tags,
        summary: 'The environments of the space',
        params: SpaceParams,
        querystring: ListQuery,
        response: responses(Collection(EnvironmentSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      return collection('Environment', await listEnvironmentResources(db, s, f), f, `/api/${s}/environments`);
    },
  );
  app.get(
    '/api/:spaceId/environments/:id',
    {
      schema: {
        tags,
        summary: 'An environment by Id, slug or name',
        params: SpaceIdParams,
        response: responses(EnvironmentSchema),
      },
    },
    async (req) => environmentResource(await requireEnvironment(db, req.params.spaceId, req.params.id)),
  );
  app.post(
    '/api/:spaceId/environments',
    {
      schema: {
        tags,
        summary: 'Create an environment',
        params: SpaceParams,
        body: EnvironmentBody,
        response: responses(EnvironmentSchema, 201),
      },
    },
    async (req, reply) =>
      reply.status(201).send(await createEnvironment(db, req.actor, req.params.spaceId, input(req.body))),
  );
  app.put(
    '/api/:spaceId/environments/:id',
    {
      schema: {
        tags,
        summary: 'Change an environment',
        params: SpaceIdParams,
        body: EnvironmentBody,
        response: responses(EnvironmentSchema),
      },
    },
    async (req) => modifyEnvironment(db, req.actor, req.params.spaceId, req.params.id, input(req.body)),
  );
  app.delete(
    '/api/:spaceId/environments/:id',
    {
      schema: { tags, summary: 'Delete an environment', params: SpaceIdParams, response: responses(AnyJson) },
    },
    async (req) => {
      await removeEnvironment(db, req.actor, req.params.spaceId, req.params.id);
      return {};
    },
  );
}
