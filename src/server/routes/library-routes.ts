import {
  lifecycleResource,
  listLifecycleResources,
  listProjectGroupResources,
  projectGroupResource,
} from '../../core/library-service.js';
import { NotFoundError } from '../../lib/errors.js';
import { getLifecycle } from '../../storage/repositories/lifecycle-repository.js';
import { getProjectGroup } from '../../storage/repositories/project-group-repository.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import { LifecycleSchema, ProjectGroupSchema } from '../schemas/resource-schemas.js';

export function libraryRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/projectgroups',
    {
      schema: {
        tags: ['Project groups'],
        summary: 'The project groups of the space',
        params: SpaceParams,
        querystring: ListQuery,
        response: responses(Collection(ProjectGroupSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      return collection(
        'ProjectGroup',
        await listProjectGroupResources(db, s, f),
        f,
        `/api/${s}/projectgroups`,
      );
    },
  );
  app.get(
    '/api/:spaceId/projectgroups/:id',
    {
      schema: {
        tags: ['Project groups'],
        summary: 'A project group',
        params: SpaceIdParams,
        response: responses(ProjectGroupSchema),
      },
    },
    async (req) => {
      const row = await getProjectGroup(db, req.params.spaceId, req.params.id);
      if (!row)
        throw new NotFoundError(`The project group ${req.params.id} does not exist.`, { code: 'NOT_FOUND' });
      return projectGroupResource(row);
    },
  );
  app.get(
    '/api/:spaceId/lifecycles',
    {
      schema: {
        tags: ['Lifecycles'],
        summary: 'The lifecycles of the space',
        params: SpaceParams,
        querystring: ListQuery,
        response: responses(Collection(LifecycleSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      return collection('Lifecycle', await listLifecycleResources(db, s, f), f, `/api/${s}/lifecycles`);
    },
  );
  app.get(
    '/api/:spaceId/lifecycles/:id',
    {
      schema: {
        tags: ['Lifecycles'],
        summary: 'A lifecycle',
        params: SpaceIdParams,
        response: responses(LifecycleSchema),
      },
    },
    async (req) => {
      const row = await getLifecycle(db, req.params.spaceId, req.params.id);
      if (!row)
        throw new NotFoundError(`The lifecycle ${req.params.id} does not exist.`, { code: 'NOT_FOUND' });
      return lifecycleResource(row);
    },
  );
}
