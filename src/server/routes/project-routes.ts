import { Type } from 'typebox';
import {
  createProject,
  listProjectResources,
  modifyProject,
  type ProjectInput,
  projectResource,
  removeProject,
  requireProject,
  resolveProject,
} from '../../core/project-service.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { AnyJson, NStr, responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import { ProjectSchema } from '../schemas/resource-schemas.js';

const ProjectBody = Type.Object({
  Name: Type.Optional(Type.String()),
  Slug: Type.Optional(NStr),
  Description: Type.Optional(NStr),
  ProjectGroupId: Type.Optional(Type.String()),
  LifecycleId: Type.Optional(Type.String()),
  IsDisabled: Type.Optional(Type.Boolean()),
  RetryOnNodeFailure: Type.Optional(
    Type.Boolean({
      description:
        'Cuttle: a deployment whose node died inside a step is queued again instead of failed (only for steps safe to run twice)',
    }),
  ),
});

const tags = ['Projects'];
const input = (b: unknown): ProjectInput => {
  const v = b as Record<string, unknown>;
  return {
    Name: v.Name as string | undefined,
    Slug: (v.Slug as string | null) ?? undefined,
    Description: (v.Description as string | null) ?? undefined,
    ProjectGroupId: v.ProjectGroupId as string | undefined,
    LifecycleId: v.LifecycleId as string | undefined,
    IsDisabled: v.IsDisabled as boolean | undefined,
    RetryOnNodeFailure: v.RetryOnNodeFailure as boolean | undefined,
  };
};

export function projectRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/projects',
    {
      schema: {
        tags,
        summary: 'The projects of the space',
        params: SpaceParams,
        querystring: ListQuery,
        response: responses(Collection(ProjectSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      return collection('Project', await listProjectResources(db, s, f), f, `/api/${s}/projects`);
    },
  );
  app.get(
    '/api/:spaceId/projects/:id',
    {
      schema: {
        tags,
        summary: 'A project by Id, Slug or Name',
        params: SpaceIdParams,
        response: responses(ProjectSchema),
      },
    },
    async (req) => projectResource(await resolveProject(db, req.params.spaceId, req.params.id)),
  );
  app.post(
    '/api/:spaceId/projects',
    {
      schema: {
        tags,
        summary:
          'Create a project (ProjectGroupId and LifecycleId are required), with an empty deployment process',
        params: SpaceParams,
        body: ProjectBody,
        response: responses(ProjectSchema, 201),
      },
    },
    async (req, reply) =>
      reply.status(201).send(await createProject(db, req.actor, req.params.spaceId, input(req.body))),
  );
  app.put(
    '/api/:spaceId/projects/:id',
    {
      schema: {
        tags,
        summary: 'Change a project',
        params: SpaceIdParams,
        body: ProjectBody,
        response: responses(ProjectSchema),
      },
    },
    async (req) => {
      await requireProject(db, req.params.spaceId, req.params.id);
      return modifyProject(db, req.actor, req.params.spaceId, req.params.id, input(req.body));
    },
  );
  app.delete(
    '/api/:spaceId/projects/:id',
    {
      schema: {
        tags,
        summary: 'Delete a project that has no releases',
        params: SpaceIdParams,
        response: responses(AnyJson),
      },
    },
    async (req) => {
      await removeProject(db, req.actor, req.params.spaceId, req.params.id);
      return {};
    },
  );
}
