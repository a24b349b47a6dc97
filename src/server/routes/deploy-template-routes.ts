import { Type } from 'typebox';
import { deployTargets } from '../../core/deploy-target-service.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, responses, SpaceIdParams, Str } from '../schemas/common-schemas.js';

const TemplateSchema = Type.Object({
  ReleaseId: Str,
  ProjectId: Str,
  LifecycleId: Str,
  PromoteTo: Type.Array(Type.Object({ Id: Str, Name: Str })),
  IsDeploymentProcessModified: Bool,
  IsVariableSetModified: Bool,
});

export function deployTemplateRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/releases/:id/deployments/template',
    {
      schema: {
        tags: ['Deployments'],
        summary:
          "Where this release may be deployed: the environments of its project's lifecycle (PromoteTo)",
        params: SpaceIdParams,
        response: responses(TemplateSchema),
      },
    },
    async (req) => deployTargets(db, req.params.spaceId, req.params.id),
  );
}
