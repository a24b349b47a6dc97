import { Type } from 'typebox';
import { requireTask } from '../../core/task-view-service.js';
import { LiveFeed } from '../portal/live-feed.js';
import { openSse, type SseClient } from '../portal/sse.js';
import { streamTask } from '../portal/task-stream.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, IdParams, NStr, responses, Str } from '../schemas/common-schemas.js';

const tags = ['Portal'];

const PortalStatusSchema = Type.Object({
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
  // Open streams would hold a closing server (a drain, a database move) open: end them first.
  const streams = new Set<SseClient>();
  app.addHook('preClose', async () => {
    feed.closeAll();
    for (const c of [...streams]) c.close();
  });

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

  app.get(
    '/api/portal/tasks/:id/stream',
    {
      schema: {
        tags,
        summary:
          'Server-sent events for one task: `task` (task and activities) on change, `lines` (log chunks after `after`), `end` once completed',
        params: IdParams,
        querystring: Type.Object({
          after: Type.Optional(Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER })),
        }),
        response: { ...responses(Type.Unknown()), 200: Type.String({ description: 'text/event-stream' }) },
      },
    },
    async (req, reply) => {
      await requireTask(deps.db, req.params.id); // a 404 in the error shape before the stream opens
      const client = openSse(req, reply);
      streams.add(client);
      client.onClose(() => streams.delete(client));
      await streamTask(deps.db, deps.changes, client, req.params.id, req.query.after ?? -1);
    },
  );
}
