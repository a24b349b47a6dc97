import { Type } from 'typebox';
import {
  createDeployments,
  getDeploymentResource,
  listDeploymentResources,
} from '../../core/deployment-service.js';
import { Collection, collection, ListQuery, listFilter, splitList } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { responses, SpaceIdParams, SpaceParams } from '../schemas/common-schemas.js';
import {
  CreateDeploymentUntenantedCommandV1,
  CreateDeploymentUntenantedResponseV1,
  DeploymentSchema,
  NewDeployment,
} from '../schemas/deployment-schemas.js';

const tags = ['Deployments'];
const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);
const DeploymentQuery = Type.Intersect([
  ListQuery,
  Type.Object({ projects: Type.Optional(StringOrList), environments: Type.Optional(StringOrList) }),
]);

export function deploymentRoutes(app: App, { db, key }: RouteDeps): void {
  app.post(
    '/api/:spaceId/deployments/create/untenanted/v1',
    {
      schema: {
        tags,
        summary: 'Executions API: deploy a release to one or more environments (one server task each)',
        params: SpaceParams,
        body: CreateDeploymentUntenantedCommandV1,
        response: responses(CreateDeploymentUntenantedResponseV1),
      },
    },
    async (req) => ({
      DeploymentServerTasks: await createDeployments(db, key, req.actor, req.params.spaceId, req.body),
    }),
  );
  app.post(
    '/api/:spaceId/deployments',
    {
      schema: {
        tags,
        summary: 'Deploy a release to one environment (ReleaseId, EnvironmentId)',
        params: SpaceParams,
        body: NewDeployment,
        response: responses(DeploymentSchema, 201),
      },
    },
    async (req, reply) => {
      const [first] = await createDeployments(db, key, req.actor, req.params.spaceId, req.body);
      return reply.status(201).send(await getDeploymentResource(db, req.params.spaceId, first!.DeploymentId));
    },
  );
  app.get(
    '/api/:spaceId/deployments',
    {
      schema: {
        tags,
        summary: 'The deployments of the space, newest first (filters: ids, projects, environments)',
        params: SpaceParams,
        querystring: DeploymentQuery,
        response: responses(Collection(DeploymentSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const q = req.query as { projects?: string | string[]; environments?: string | string[] };
      const s = req.params.spaceId;
      const page = await listDeploymentResources(db, s, {
        ...f,
        projects: splitList(q.projects),
        environments: splitList(q.environments),
      });
      return collection('Deployment', page, f, `/api/${s}/deployments`);
    },
  );
  app.get(
    '/api/:spaceId/deployments/:id',
    {
      schema: { tags, summary: 'A deployment', params: SpaceIdParams, response: responses(DeploymentSchema) },
    },
    async (req) => getDeploymentResource(db, req.params.spaceId, req.params.id),
  );
  app.get(
    '/api/:spaceId/releases/:id/deployments',
    {
      schema: {
        tags,
        summary: 'The deployments of a release, newest first',
        params: SpaceIdParams,
        querystring: ListQuery,
        response: responses(Collection(DeploymentSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      const s = req.params.spaceId;
      const page = await listDeploymentResources(db, s, { ...f, releaseId: req.params.id });
      return collection('Deployment', page, f, `/api/${s}/releases/${req.params.id}/deployments`);
    },
  );
}
