import { Type } from 'typebox';
import { resolveProject } from '../../core/project-service.js';
import {
  bindReleaseBody,
  createRelease,
  listReleaseResources,
  modifyRelease,
  releaseResource,
  removeRelease,
  requireRelease,
} from '../../core/release-service.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { AnyJson, NStr, responses, SpaceIdParams, SpaceParams, Str } from '../schemas/common-schemas.js';
import { ReleaseSchema } from '../schemas/resource-schemas.js';

const tags = ['Releases'];
const ReleaseQuery = Type.Intersect([
  ListQuery,
  Type.Object({ searchByVersion: Type.Optional(Type.String()) }),
]);
const CreateReleaseResponse = Type.Object({ ReleaseId: Str, ReleaseVersion: Str });

export function releaseRoutes(app: App, { db }: RouteDeps): void {
  app.post(
    '/api/:spaceId/releases/create/v1',
    {
      schema: {
        tags,
        summary: 'Executions API: create a release (version 0.0.N when ReleaseVersion is not given)',
        params: SpaceParams,
        body: Type.Record(Type.String(), Type.Unknown()),
        response: responses(CreateReleaseResponse),
      },
    },
    async (req) => {
      const { release } = await createRelease(db, req.actor, req.params.spaceId, bindReleaseBody(req.body));
      return { ReleaseId: release.id, ReleaseVersion: release.version };
    },
  );
  app.post(
    '/api/:spaceId/releases',
    {
      schema: {
        tags,
        params: SpaceParams,
        body: Type.Record(Type.String(), Type.Unknown()),
        response: responses(ReleaseSchema, 201),
      },
    },
    async (req, reply) => {
      const { release } = await createRelease(db, req.actor, req.params.spaceId, bindReleaseBody(req.body));
      return reply.status(201).send(releaseResource(release));
    },
  );
  app.get(
    '/api/:spaceId/releases',
    {
      schema: {
        tags,
        params: SpaceParams,
        querystring: ReleaseQuery,
        response: responses(Collection(ReleaseSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      return collection('Release', await listReleaseResources(db, s, f), f, `/api/${s}/releases`);
    },
  );
  app.get(
    '/api/:spaceId/projects/:id/releases',
    {
      schema: {
        tags,
        params: SpaceIdParams,
        querystring: ReleaseQuery,
        response: responses(Collection(ReleaseSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      const project = await resolveProject(db, s, req.params.id);
      const page = await listReleaseResources(db, s, {
        ...f,
        projectId: project.id,
        searchByVersion: (req.query as { searchByVersion?: string }).searchByVersion,
      });
      return collection('Release', page, f, `/api/${s}/projects/${project.id}/releases`);
    },
  );
  app.get(
    '/api/:spaceId/releases/:id',
    { schema: { tags, params: SpaceIdParams, response: responses(ReleaseSchema) } },
    async (req) => releaseResource(await requireRelease(db, req.params.spaceId, req.params.id)),
  );
  app.put(
    '/api/:spaceId/releases/:id',
    {
      schema: {
        tags,
        params: SpaceIdParams,
        body: Type.Object({
          Version: Type.Optional(Type.String()),
          ReleaseNotes: Type.Optional(NStr),
        }),
        response: responses(ReleaseSchema),
      },
    },
    async (req) =>
      modifyRelease(db, req.actor, req.params.spaceId, req.params.id, {
        Version: req.body.Version,
        ReleaseNotes: req.body.ReleaseNotes ?? undefined,
      }),
  );
  app.delete(
    '/api/:spaceId/releases/:id',
    { schema: { tags, params: SpaceIdParams, response: responses(AnyJson) } },
    async (req) => {
      await removeRelease(db, req.actor, req.params.spaceId, req.params.id);
      return {};
    },
  );
}
