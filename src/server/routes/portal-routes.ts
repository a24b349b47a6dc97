import { Type } from 'typebox';
import { LiveFeed } from '../portal/live-feed.js';
import { openSse } from '../portal/sse.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, NStr, responses, Str } from '../schemas/common-schemas.js';

const tags = ['Portal'];

export const PortalStatusSchema = Type.Object({
  IsInMaintenanceMode: Bool,
  MaintenanceModifiedBy: NStr,
  MaintenanceModifiedOn: NStr,
  IsTestReplica: Bool,
  ReplicaCreated: NStr,
  NodeName: Str,
  NodeIsDraining: Bool,
  CuttleVersion: Str,
});

/** The portal's live doors: the banner status, and one event stream per open page. */
export function portalLiveRoutes(app: App, deps: RouteDeps): void {
  const feed = new LiveFeed(deps.db, deps.changes, deps.maintenance, () => ({
    name: deps.nodeId,
    draining: deps.isDraining(),
  }));
  app.addHook('preClose', async () => feed.closeAll());

  app.get(
    '/api/portal/status',
    {
      schema: {
        tags,
        summary: 'What the banners show: maintenance mode (who, when), test replica, this node draining',
        response: responses(PortalStatusSchema),
      },
    },
    async () => feed.currentStatus(),
  );

  app.get(
    '/api/portal/events',
    {
      schema: {
        tags,
        summary:
          'Server-sent events: `status` (as GET /api/portal/status) on connect and on change; `changed` {Tables} when data the pages show changed',
        response: { ...responses(Type.Unknown()), 200: Type.String({ description: 'text/event-stream' }) },
      },
    },
    async (req, reply) => {
      await feed.add(openSse(req, reply));
    },
  );
}
