import { Type } from 'typebox';
import { dashboard } from '../../core/dashboard-service.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, Links, NStr, responses, SpaceParams, Str, StrList } from '../schemas/common-schemas.js';

const DashboardSchema = Type.Object({
  Projects: Type.Array(
    Type.Object({
      Id: Str,
      Name: Str,
      Slug: Str,
      ProjectGroupId: Str,
      IsDisabled: Bool,
      EnvironmentIds: StrList,
    }),
  ),
  ProjectGroups: Type.Array(Type.Object({ Id: Str, Name: Str, EnvironmentIds: StrList })),
  Environments: Type.Array(Type.Object({ Id: Str, Name: Str })),
  Items: Type.Array(
    Type.Object({
      ProjectId: Str,
      EnvironmentId: Str,
      ReleaseId: Str,
      ReleaseVersion: Str,
      DeploymentId: Str,
      TaskId: Str,
      State: Str,
      IsCompleted: Bool,
      HasWarningsOrErrors: Bool,
      ErrorMessage: Str,
      Created: Str,
      QueueTime: Str,
      StartTime: NStr,
      CompletedTime: NStr,
      IsCurrent: Bool,
    }),
  ),
  IsFiltered: Bool,
  Links,
});

export function dashboardRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/:spaceId/dashboard',
    {
      schema: {
        tags: ['Dashboard'],
        summary: "Projects by environment with each cell's latest deployment (release, state, times)",
        params: SpaceParams,
        response: responses(DashboardSchema),
      },
    },
    async (req) => dashboard(db, req.params.spaceId),
  );
}
