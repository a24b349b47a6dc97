import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { nowIso } from '../../lib/clock.js';
import { nextChangeNumber } from '../../storage/repositories/id-allocator.js';
import { META, setMeta } from '../../storage/repositories/metadata-repository.js';
import type { Database } from '../../storage/schema/database-types.js';

/**
 * What turns a restored copy into a replica that can run beside production without touching
 * anything production owns: new identities, no node registrations, nothing that reaches out
 * (scheduled backups, queued or running tasks that would deploy to production targets), and a
 * marker that the server status reports (IsPotentialClone). Idempotent: safe to run again.
 */
export interface ReplicaMarker {
  /** The backup archive and the instance id of the copied instance. */
  from: { archive: string; instanceId: string | null };
  created: string;
  newMasterKey: boolean;
  scrubbedPersonalData: boolean;
}

export interface ReplicaChanges {
  installationId: string;
  instanceId: string;
  nodesRemoved: number;
  tasksCanceled: number;
  backupScheduleRemoved: boolean;
  usersScrubbed: number;
  apiKeysRemoved: number;
}

const ACTIVE_TASK_STATES = ['Queued', 'Executing', 'Cancelling'];

export async function makeReplica(
  db: Kysely<Database>,
  marker: ReplicaMarker,
  opts: { scrubPersonalData?: boolean },
): Promise<ReplicaChanges> {
  return db.transaction().execute(async (trx) => {
    const installationId = randomUUID();
    const instanceId = randomUUID();
    await setMeta(trx, META.installationId, installationId);
    await setMeta(trx, META.instanceId, instanceId);
    const nodes = await trx.deleteFrom('server_nodes').executeTakeFirst();
    const schedule = await trx
      .deleteFrom('instance_metadata')
      .where('key', '=', META.backupSchedule)
      .executeTakeFirst();
    let tasksCanceled = 0;
    const active = await trx
      .selectFrom('server_tasks')
      .select('id')
      .where('state', 'in', ACTIVE_TASK_STATES)
      .execute();
    for (const t of active) {
      await trx
        .updateTable('server_tasks')
        .set({
          state: 'Canceled',
          completed_time: nowIso(),
          last_updated: nowIso(),
          error_message:
            'Canceled: this task was queued or running in the instance this replica was copied from.',
          node_id: null,
          lease_until: null,
          change_number: await nextChangeNumber(trx),
        })
        .where('id', '=', t.id)
        .execute();
      tasksCanceled++;
    }
    let usersScrubbed = 0;
    let apiKeysRemoved = 0;
    if (opts.scrubPersonalData) {
      const users = await trx.selectFrom('users').select(['id']).execute();
      for (const u of users) {
        await trx
          .updateTable('users')
          .set({
            email: null,
            display_name: '',
            password_hash: null,
            change_number: await nextChangeNumber(trx),
          })
          .where('id', '=', u.id)
          .execute();
        usersScrubbed++;
      }
      apiKeysRemoved = Number((await trx.deleteFrom('api_keys').executeTakeFirst()).numDeletedRows);
    }
    await setMeta(trx, META.replica, JSON.stringify(marker));
    return {
      installationId,
      instanceId,
      nodesRemoved: Number(nodes.numDeletedRows),
      tasksCanceled,
      backupScheduleRemoved: Number(schedule.numDeletedRows) > 0,
      usersScrubbed,
      apiKeysRemoved,
    };
  });
}
