import os from 'node:os';
import type { Kysely } from 'kysely';
import { writeEvent } from '../../core/event-service.js';
import { nowIso } from '../../lib/clock.js';
import { NotFoundError, PreconditionError } from '../../lib/errors.js';
import { nextChangeNumber } from '../../storage/repositories/id-allocator.js';
import type { Database } from '../../storage/schema/database-types.js';
import { LIVE_NODE_WINDOW_MS } from '../home/running-service.js';
import { type Instance, openInstanceStorage } from '../instance-context.js';

export interface RetireNodeResult {
  node: string;
  previousStatus: string;
  lastSeen: string;
  eventId: string;
}

/**
 * After a move of the server, the old machine's node row would still count as a node of the
 * instance (Octopus's ghost nodes, pain point 8). Retiring it marks the row 'retired': nothing
 * counts it as live, and if the old server is started again it refuses to run
 * (tasks/node-registry.ts assertNodeNotRetired) unless told so explicitly.
 */
export async function retireNode(
  inst: Instance,
  node: string,
  opts: { force?: boolean } = {},
): Promise<RetireNodeResult> {
  if (node === inst.config.nodeName) {
    throw new PreconditionError(`"${node}" is the node name of instance "${inst.name}" itself.`, {
      code: 'NODE_IS_SELF',
      hints: [
        'On the same machine, give the new node a name of its own first: cuttle configure --node-name NEW-NAME',
      ],
    });
  }
  const storage = await openInstanceStorage(inst);
  try {
    return await storage.db
      .transaction()
      .execute((trx) => retireNodeRow(trx, node, { force: opts.force, by: 'cuttle retire-node' }));
  } finally {
    await storage.close();
  }
}

/**
 * The node row `node` (id or name) as retired, with a NodeRetired event, in the caller's
 * transaction; refused while the node sends heartbeats, unless `force`.
 */
export async function retireNodeRow(
  trx: Kysely<Database>,
  node: string,
  opts: { force?: boolean; by: string; reason?: string },
): Promise<RetireNodeResult> {
  const row = await findNodeToRetire(trx, node, opts.force);
  await trx
    .updateTable('server_nodes')
    .set({ status: 'retired', running_tasks: 0, change_number: await nextChangeNumber(trx) })
    .where('id', '=', row.id)
    .execute();
  const eventId = await writeEvent(trx, {
    category: 'NodeRetired',
    message: `Node ${row.id} was retired (${opts.reason ?? 'it was replaced by a move of the server'}).`,
    relatedDocumentIds: [row.id],
    username: `${os.userInfo().username} (${opts.by})`,
    details: { PreviousStatus: row.status, LastSeen: row.last_seen, Retired: nowIso() },
  });
  return { node: row.id, previousStatus: row.status, lastSeen: row.last_seen, eventId };
}

/** The node's row, refused while it sends heartbeats (unless `force`); writes nothing. */
export async function findNodeToRetire(
  db: Kysely<Database>,
  node: string,
  force?: boolean,
): Promise<{ id: string; status: string; last_seen: string }> {
  const row = await db
    .selectFrom('server_nodes')
    .select(['id', 'status', 'last_seen'])
    .where((eb) => eb.or([eb('id', '=', node), eb('name', '=', node)]))
    .executeTakeFirst();
  if (!row) {
    throw new NotFoundError(`No node "${node}" is registered in this instance's database.`, {
      code: 'NODE_NOT_FOUND',
      hints: ['`cuttle service --status` lists the nodes.'],
    });
  }
  const fresh = Date.parse(row.last_seen) > Date.now() - LIVE_NODE_WINDOW_MS;
  if (row.status === 'live' && fresh && !force) {
    throw new PreconditionError(`Node "${node}" sent a heartbeat at ${row.last_seen}: it is running.`, {
      code: 'NODE_RUNNING',
      hints: [
        `Stop it on its machine first (cuttle service --stop), or add --force if that machine is gone.`,
      ],
    });
  }
  return row;
}
