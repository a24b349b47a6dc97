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
import { AnyJson, responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import {
  CreateReleaseCommandV1,
  CreateReleaseResponseV1,
  ModifyRelease,
  NewRelease,
  ReleaseSchema,
} from '../schemas/release-schemas.js';

const tags = ['Releases'];
const ReleaseQuery = Type.Intersect([
  ListQuery,
  Type.Object({ searchByVersion: Type.Optional(Type.String()) }),
]);

export function releaseRoutes(app: App, { db }: RouteDeps): void {
  app.post(
    '/api/:spaceId/releases/create/v1',
    {
      schema: {
        tags,
        summary: 'Executions API: create a release (version 0.0.N when ReleaseVersion is not given)',
        params: SpaceParams,
        body: CreateReleaseCommandV1,
        response: responses(CreateReleaseResponseV1),
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
        summary: 'Create a release, snapshotting the deployment process and the variables',
        params: SpaceParams,
        body: NewRelease,
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
        summary: 'The releases of the space, newest first',
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
        summary: "A project's releases (by project Id, slug or name), newest first",
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
    { schema: { tags, summary: 'A release', params: SpaceIdParams, response: responses(ReleaseSchema) } },
    async (req) => releaseResource(await requireRelease(db, req.params.spaceId, req.params.id)),
  );
  app.put(
    '/api/:spaceId/releases/:id',
    {
      schema: {
        tags,
        summary: "Change a release's version or notes",
        params: SpaceIdParams,
        body: ModifyRelease,
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
    {
      schema: {
        tags,
        summary: 'Delete a release and its deployments',
        params: SpaceIdParams,
        response: responses(AnyJson),
      },
    },
    async (req) => {
      await removeRelease(db, req.actor, req.params.spaceId, req.params.id);
      return {};
    },
  );
}
