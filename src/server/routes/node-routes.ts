import { Type } from 'typebox';
import { getNodeResource, listNodes, setNodeDrain } from '../../core/node-service.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, IdParams, Int, Links, NStr, responses, Str } from '../schemas/common-schemas.js';

const NodeSchema = Type.Object({
  Id: Str,
  Name: Str,
  Host: Str,
  Version: Str,
  Status: Str,
  LastSeen: Str,
  Rank: Str,
  MaxConcurrentTasks: Int,
  RunningTasks: Int,
  IsInMaintenanceMode: Bool,
  IsDraining: Bool,
  DrainModifiedBy: NStr,
  DrainModifiedOn: NStr,
  IsOffline: Bool,
  Links,
});

const tags = ['Server nodes'];

export function nodeRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/octopusservernodes',
    {
      schema: {
        tags,
        summary: 'The server nodes: heartbeat (LastSeen), running tasks, drain switch (IsInMaintenanceMode)',
        response: responses(Type.Object({ ItemType: Str, TotalResults: Int, Items: Type.Array(NodeSchema) })),
      },
    },
    async () => {
      const items = await listNodes(db);
      return { ItemType: 'OctopusServerNode', TotalResults: items.length, Items: items };
    },
  );
  app.get(
    '/api/octopusservernodes/:id',
    {
      schema: {
        tags,
        summary: 'One server node: heartbeat, task cap, drain state and running tasks',
        params: IdParams,
        response: responses(NodeSchema),
      },
    },
    async (req) => getNodeResource(db, req.params.id),
  );
  app.put(
    '/api/octopusservernodes/:id',
    {
      schema: {
        tags,
        summary:
          'Drain a node (IsInMaintenanceMode: true: no new tasks, running ones finish) or set its task cap',
        params: IdParams,
        body: Type.Object({
          IsInMaintenanceMode: Type.Optional(Bool),
          MaxConcurrentTasks: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
        }),
        response: responses(NodeSchema),
      },
    },
    async (req) => setNodeDrain(db, req.actor, req.params.id, req.body),
  );
}
