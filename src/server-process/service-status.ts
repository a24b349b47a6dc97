import { type Instance, type InstanceRef, loadInstance } from '../admin/instance-context.js';
import type { ReplicaMarker } from '../admin/replicate/make-replica.js';
import { tasksOnNode } from '../core/node-drain-wait.js';
import { getMetaJson, META } from '../storage/repositories/metadata-repository.js';
import { openStorage } from '../storage/storage.js';
import { readNodeState, runningPid } from './run-files.js';

export interface ServiceStatus {
  instance: string;
  state: 'running' | 'stopped';
  pid: number | null;
  nodeName: string;
  url: string | null;
  startedAt: string | null;
  /** Tasks this node holds (Executing or Cancelling); null when the database cannot be reached. */
  runningTasks: number | null;
  draining: boolean | null;
  /** Set when the instance is a test replica (`cuttle replicate`): where it was copied from and when. */
  replicaOf: ReplicaMarker | null;
}

/** Counts from the database, not from the process: it answers for a stuck or killed node too. */
export async function nodeTaskCounts(
  inst: Instance,
): Promise<
  | { runningTasks: number; draining: boolean; taskIds: string[]; replica: ReplicaMarker | undefined }
  | undefined
> {
  try {
    const storage = await openStorage(inst.target);
    try {
      const taskIds = await tasksOnNode(storage.db, inst.config.nodeName);
      const node = await storage.db
        .selectFrom('server_nodes')
        .select(['draining', 'status'])
        .where('id', '=', inst.config.nodeName)
        .executeTakeFirst();
      const replica = await getMetaJson<ReplicaMarker>(storage.db, META.replica);
      return {
        replica,
        runningTasks: taskIds.length,
        draining: node?.status === 'live' && !!Number(node.draining),
        taskIds,
      };
    } finally {
      await storage.close();
    }
  } catch {
    return undefined;
  }
}

export async function serviceStatus(ref: InstanceRef): Promise<ServiceStatus> {
  const inst = loadInstance(ref);
  const home = inst.config.home;
  const pid = runningPid(home);
  const state = pid ? readNodeState(home) : undefined;
  const counts = await nodeTaskCounts(inst);
  return {
    instance: inst.name,
    state: pid ? 'running' : 'stopped',
    pid: pid ?? null,
    nodeName: inst.config.nodeName,
    url: state?.url ?? null,
    startedAt: state?.startedAt ?? null,
    runningTasks: counts?.runningTasks ?? null,
    draining: pid ? (counts?.draining ?? null) : false,
    replicaOf: counts?.replica ?? null,
  };
}
