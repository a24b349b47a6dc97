import { Type } from 'typebox';
import { requireAdministrator } from '../../core/actor.js';
import { setMaintenance } from '../../core/maintenance-service.js';
import { UsageError } from '../../lib/errors.js';
import { CUTTLE_VERSION, OCTOPUS_COMPAT_VERSION } from '../../lib/version.js';
import { getMeta, META } from '../../storage/repositories/metadata-repository.js';
import type { App, RouteDeps } from '../route-deps.js';
import { AnyJson, Bool, Links, NStr, responses, Str } from '../schemas/common-schemas.js';
import { MaintenanceSchema } from '../schemas/resource-schemas.js';

const RootSchema = Type.Object({
  Application: Str,
  Version: Str,
  ApiVersion: Str,
  InstallationId: NStr,
  CuttleVersion: Str,
  IsEarlyAccessProgram: Bool,
  HasLongTermSupport: Bool,
  Links,
});

const ServerStatusSchema = Type.Object({
  Id: Str,
  IsInMaintenanceMode: Bool,
  MaintenanceExpires: NStr,
  IsDatabaseEncrypted: Bool,
  IsMajorMinorUpgrade: Bool,
  IsPotentialClone: Bool,
  IsUpgradeAvailable: Bool,
  MaximumAvailableVersion: NStr,
  MaximumAvailableVersionCoveredByLicense: NStr,
  LastModifiedBy: NStr,
  LastModifiedOn: NStr,
  ServerNode: Str,
  Links,
});

const ROOT_LINKS = {
  Self: '/api',
  Spaces: '/api/spaces{/id}{?skip,take,ids,partialName}',
  CurrentUser: '/api/users/me',
  MaintenanceConfiguration: '/api/maintenanceconfiguration',
  ServerStatus: '/api/serverstatus',
  Events: '/api/events{/id}{?skip,take,regarding,users,from,to,eventCategories}',
  Tasks: '/api/tasks{/id}{?skip,take,ids,states}',
  OpenApi: '/api/openapi.json',
};

function maintenanceResource(state: {
  IsInMaintenanceMode: boolean;
  LastModifiedBy: string | null;
  LastModifiedOn: string | null;
}) {
  return { Id: 'maintenance', ...state, Links: { Self: '/api/maintenanceconfiguration' } };
}

export function rootRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/api',
    {
      config: { anonymous: true },
      schema: {
        tags: ['Root'],
        summary: 'Server root document (no API key needed)',
        security: [],
        response: { 200: RootSchema },
      },
    },
    async () => ({
      Application: 'Octopus Deploy',
      Version: OCTOPUS_COMPAT_VERSION,
      ApiVersion: '3.0.0',
      InstallationId: (await getMeta(deps.db, META.installationId)) ?? null,
      CuttleVersion: CUTTLE_VERSION,
      IsEarlyAccessProgram: false,
      HasLongTermSupport: false,
      Links: ROOT_LINKS,
    }),
  );

  app.get(
    '/api/octopusservernodes/ping',
    {
      config: { anonymous: true },
      schema: {
        tags: ['Root'],
        summary: 'Load balancer health check: 418 while this node drains (no API key needed)',
        security: [],
        response: { 200: AnyJson, 418: AnyJson },
      },
    },
    async (_req, reply) => {
      if (deps.isDraining()) return reply.status(418).send({ Status: 'Draining', NodeName: deps.nodeId });
      return { Status: 'Healthy', NodeName: deps.nodeId };
    },
  );

  app.get(
    '/api/serverstatus',
    { schema: { tags: ['Maintenance'], summary: 'Server status', response: responses(ServerStatusSchema) } },
    async () => {
      const m = await deps.maintenance.get();
      return {
        Id: 'ServerStatus',
        IsInMaintenanceMode: m.IsInMaintenanceMode,
        MaintenanceExpires: null,
        IsDatabaseEncrypted: true,
        IsMajorMinorUpgrade: false,
        IsPotentialClone: (await getMeta(deps.db, META.replica)) !== undefined,
        IsUpgradeAvailable: false,
        MaximumAvailableVersion: null,
        MaximumAvailableVersionCoveredByLicense: null,
        LastModifiedBy: m.LastModifiedBy,
        LastModifiedOn: m.LastModifiedOn,
        ServerNode: deps.nodeId,
        Links: { Self: '/api/serverstatus' },
      };
    },
  );

  app.get(
    '/api/maintenanceconfiguration',
    {
      schema: { tags: ['Maintenance'], summary: 'Maintenance mode', response: responses(MaintenanceSchema) },
    },
    async () => maintenanceResource(await deps.maintenance.get()),
  );

  app.put(
    '/api/maintenanceconfiguration',
    {
      schema: {
        tags: ['Maintenance'],
        summary: 'Turn maintenance mode on or off (administrators only)',
        body: Type.Object({ IsInMaintenanceMode: Type.Boolean() }),
        response: responses(MaintenanceSchema),
      },
    },
    async (req) => {
      requireAdministrator(req.actor, 'change maintenance mode');
      if (typeof req.body?.IsInMaintenanceMode !== 'boolean')
        throw new UsageError('IsInMaintenanceMode is required.', { code: 'REQUEST_INVALID' });
      const state = await setMaintenance(deps.db, req.body.IsInMaintenanceMode, req.actor);
      deps.maintenance.set(state);
      return maintenanceResource(state);
    },
  );
}
