import type { Kysely } from 'kysely';
import { nowIso } from '../lib/clock.js';
import type { Database } from '../storage/schema/database-types.js';
import { LeaseLostError, ownedBy, type TaskFence } from './task-fence.js';
import type { Activities, ActivityStatus } from './task-types.js';

/** One node of the task's activity tree, as stored in `server_tasks.activity_json` (a flat array). */
export interface ActivityNode {
  Id: string;
  Name: string;
  Status: ActivityStatus;
  Started: string | null;
  Ended: string | null;
  ParentId: string | null;
}

const PERSIST_INTERVAL_MS = 300;

/**
 * The activity tree of one task. The root node's Id is the task id; an activity started without a
 * parent hangs under the root, so the tree is always task > step > action. Changes are persisted
 * to `server_tasks.activity_json` within PERSIST_INTERVAL_MS and on `persist()`.
 */
export class ActivityTree implements Activities {
  private readonly nodes = new Map<string, ActivityNode>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private lost = false;

  constructor(
    private readonly db: Kysely<Database>,
    readonly taskId: string,
    rootName: string,
    existing: ActivityNode[] = [],
    /** The claim the tree is written under (task-fence.ts): a write it lost is refused and told once. */
    private readonly owner?: { fence: TaskFence; onLeaseLost: (err: LeaseLostError) => void },
  ) {
    for (const n of existing) this.nodes.set(n.Id, n);
    const root = this.nodes.get(taskId);
    this.nodes.set(taskId, {
      Id: taskId,
      Name: rootName,
      Status: 'Running',
      Started: root?.Started ?? nowIso(),
      Ended: null,
      ParentId: null,
    });
  }

  static parse(json: string): ActivityNode[] {
    try {
      const v = JSON.parse(json) as unknown;
      return Array.isArray(v) ? (v as ActivityNode[]) : [];
    } catch {
      return [];
    }
  }

  start(id: string, name: string, parentId?: string): void {
    this.nodes.set(id, {
      Id: id,
      Name: name,
      Status: 'Running',
      Started: nowIso(),
      Ended: null,
      ParentId: parentId ?? this.taskId,
    });
    this.schedule();
  }

  finish(id: string, status: ActivityStatus): void {
    const n = this.nodes.get(id);
    if (!n) return;
    n.Status = status;
    n.Ended = nowIso();
    this.schedule();
  }

  /** Ends the root, and any activity still open, with the task's final status. */
  finishAll(rootStatus: ActivityStatus, openStatus: ActivityStatus): void {
    for (const n of this.nodes.values()) {
      if (n.Id === this.taskId || n.Ended !== null) continue;
      if (n.Status === 'Running' || n.Status === 'Pending') {
        n.Status = n.Status === 'Pending' ? 'Skipped' : openStatus;
        n.Ended = nowIso();
      }
    }
    this.finish(this.taskId, rootStatus);
  }

  toJSON(): ActivityNode[] {
    return [...this.nodes.values()];
  }

  /** Drops a scheduled write (the caller writes activity_json itself). */
  cancelPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  persist(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const json = JSON.stringify(this.toJSON());
    const run = this.chain.then(async () => {
      const owner = this.owner;
      const r = await this.db
        .updateTable('server_tasks')
        .set({ activity_json: json })
        .where(owner ? ownedBy(owner.fence) : (eb) => eb('id', '=', this.taskId))
        .executeTakeFirst();
      if (owner && Number(r.numUpdatedRows) !== 1) {
        const err = new LeaseLostError(owner.fence);
        if (!this.lost) owner.onLeaseLost(err);
        this.lost = true;
        throw err;
      }
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed background write is retried by the next change or the final persist().
      this.persist().catch(() => {});
    }, PERSIST_INTERVAL_MS);
    this.timer.unref();
  }
}
