import { Type } from 'typebox';
import {
  getProcessResource,
  projectIdOfProcess,
  updateProcess,
} from '../../core/deployment-process-service.js';
import {
  getProjectVariables,
  updateProjectVariables,
  type VariableInput,
} from '../../core/variable-service.js';
import { NotFoundError } from '../../lib/errors.js';
import { getVariableSet } from '../../storage/repositories/variable-repository.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Int32, NStr, responses, SpaceIdParams } from '../schemas/common-schemas.js';
import { DeploymentProcessInput, DeploymentProcessSchema } from '../schemas/process-schemas.js';
import { VariableSetSchema } from '../schemas/resource-schemas.js';

const SAVE_SUMMARY =
  'Replace the steps (Version: the one read, else 409); 400, and nothing saved, for an action Cuttle cannot run';
const VariablesBody = Type.Object({
  Version: Type.Optional(Int32()),
  Variables: Type.Array(
    Type.Object({
      Id: Type.Optional(NStr),
      Name: Type.String(),
      Value: Type.Optional(NStr),
      Description: Type.Optional(NStr),
      Scope: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
      IsSensitive: Type.Optional(Type.Boolean()),
      Type: Type.Optional(Type.String()),
      Prompt: Type.Optional(Type.Unknown()),
    }),
  ),
});

export function processRoutes(app: App, { db, key }: RouteDeps): void {
  const tags = ['Deployment processes'];
  const processOf = { tags, params: SpaceIdParams, response: responses(DeploymentProcessSchema) };
  app.get(
    '/api/:spaceId/projects/:id/deploymentprocesses',
    { schema: { ...processOf, summary: "A project's deployment process" } },
    async (req) => getProcessResource(db, req.params.spaceId, req.params.id),
  );
  app.put(
    '/api/:spaceId/projects/:id/deploymentprocesses',
    { schema: { ...processOf, summary: SAVE_SUMMARY, body: DeploymentProcessInput } },
    async (req) => updateProcess(db, key, req.actor, req.params.spaceId, req.params.id, req.body),
  );
  // Octopus's other address of the same process: by its own Id, deploymentprocess-<ProjectId>.
  app.get(
    '/api/:spaceId/deploymentprocesses/:id',
    { schema: { ...processOf, summary: 'A deployment process by its Id (deploymentprocess-<ProjectId>)' } },
    async (req) =>
      getProcessResource(db, req.params.spaceId, projectIdOfProcess(req.params.spaceId, req.params.id)),
  );
  app.put(
    '/api/:spaceId/deploymentprocesses/:id',
    { schema: { ...processOf, summary: SAVE_SUMMARY, body: DeploymentProcessInput } },
    async (req) =>
      updateProcess(
        db,
        key,
        req.actor,
        req.params.spaceId,
        projectIdOfProcess(req.params.spaceId, req.params.id),
        req.body,
      ),
  );

  const vtags = ['Variables'];
  app.get(
    '/api/:spaceId/projects/:id/variables',
    {
      schema: {
        tags: vtags,
        summary: "A project's variables (sensitive values answered as null)",
        params: SpaceIdParams,
        response: responses(VariableSetSchema),
      },
    },
    async (req) => getProjectVariables(db, req.params.spaceId, req.params.id),
  );
  app.put(
    '/api/:spaceId/projects/:id/variables',
    {
      schema: {
        tags: vtags,
        summary: 'Replace the variables; a sensitive variable sent with Value null keeps its stored value',
        params: SpaceIdParams,
        body: VariablesBody,
        response: responses(VariableSetSchema),
      },
    },
    async (req) =>
      updateProjectVariables(db, key, req.actor, req.params.spaceId, req.params.id, {
        Version: req.body.Version,
        Variables: req.body.Variables as VariableInput[],
      }),
  );
  app.get(
    '/api/:spaceId/variables/:id',
    {
      schema: {
        tags: vtags,
        summary: 'A variable set by its Id',
        params: SpaceIdParams,
        response: responses(VariableSetSchema),
      },
    },
    async (req) => {
      const set = await getVariableSet(db, req.params.id);
      if (!set || set.space_id !== req.params.spaceId)
        throw new NotFoundError(`The variable set ${req.params.id} does not exist.`, { code: 'NOT_FOUND' });
      return getProjectVariables(db, req.params.spaceId, set.owner_id);
    },
  );
}
