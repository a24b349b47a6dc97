import type { MasterKey } from '../crypto/master-key.js';
import { TypedEmitter } from '../lib/typed-emitter.js';
import type { Storage } from '../storage/storage.js';
import type { ExecutorEvents } from './executor-events.js';
import { LEASE_MS, type LeaseTiming, leaseTiming } from './lease-timing.js';
import { heartbeatNode } from './node-registry.js';
import { claimTasks } from './task-claim.js';
import type { TaskFence } from './task-fence.js';
import { cancelRequested, renewLeases, sweepExpiredLeases } from './task-lease.js';
import { taskEvents } from './task-queue.js';
import { type AbortCause, claimFence, runClaimedTask, TaskAbort } from './task-runner.js';
import type { TaskRecord, TaskState } from './task-types.js';
import { TaskWakeups } from './task-wakeups.js';

export interface ExecutorOptions {
  storage: Storage;
  key: MasterKey;
  home: string;
  nodeId: string;
  keepWorkFolders?: boolean;
  /** At most this many tasks run at once on this node (config taskCap). */
  taskCap: number;
  /** Polling backstop for tasks queued by other processes. */
  pollMs?: number;
  leaseMs?: number;
  /** How often running tasks are checked for cancel requests from other processes. */
  cancelPollMs?: number;
  sweepMs?: number;
  maxAttempts?: number;
  /** A task running longer than this is aborted and ends TimedOut (none by default). */
  taskTimeoutMs?: number;
  /** Publish this node's heartbeat to server_nodes (its row must exist: registerNode). */
  nodeHeartbeat?: boolean;
  /** Wake-ups from other processes (task-wakeups.ts); by default the storage's own. */
  wakeups?: TaskWakeups;
  onError?: (err: unknown) => void;
}

interface Running {
  task: TaskRecord;
  fence: TaskFence;
  controller: AbortController;
  done: Promise<unknown>;
  /** performance.now() by which the lease runs out, as far as this node knows: the last renewal it saw succeed. */
  leaseValidUntil: number;
}

/**
 * Claims and runs tasks on this node. It wakes at once on an in-process enqueue and polls as a
 * backstop; renews the leases of what it runs every lease/3, and gives a task up itself (its
 * scripts killed, its writes refused) when a quarter of the lease is all that is left since the
 * last renewal that succeeded (lease-timing.ts); checks for cancel requests every second; sweeps
 * leases that ran out; and drains: stop claiming, let running tasks end.
 * Each step is announced on `events` (executor-events.ts), so a watcher waits for what happened
 * instead of for time to pass.
 */
export class TaskExecutor {
  readonly events: TypedEmitter<ExecutorEvents>;
  private readonly running = new Map<string, Running>();
  private readonly timers: NodeJS.Timeout[] = [];
  private draining = false;
  private started = false;
  private claiming = false;
  private claimAgain = false;
  /** The claim round in flight (settled when none is): what it claims, it launches. */
  private claimRound: Promise<void> = Promise.resolve();
  private taskCap: number;
  private readonly o: Required<Omit<ExecutorOptions, 'taskTimeoutMs'>> & { taskTimeoutMs?: number };
  private readonly timing: LeaseTiming;
  private readonly onWake = () => this.tick();
  private readonly onCancel = (id: string) => this.abortTask(id, 'cancel');

  constructor(opts: ExecutorOptions) {
    this.o = {
      pollMs: 1000,
      leaseMs: LEASE_MS,
      cancelPollMs: 1000,
      sweepMs: leaseTiming(opts.leaseMs ?? LEASE_MS).sweepEveryMs,
      maxAttempts: 3,
      nodeHeartbeat: false,
      keepWorkFolders: false,
      onError: (err) =>
        process.stderr.write(`Task executor: ${err instanceof Error ? err.message : String(err)}\n`),
      ...opts,
      wakeups: opts.wakeups ?? new TaskWakeups(opts.storage),
    };
    this.taskCap = opts.taskCap;
    this.timing = leaseTiming(this.o.leaseMs);
    this.events = new TypedEmitter<ExecutorEvents>(this.o.onError);
  }

  get runningCount(): number {
    return this.running.size;
  }

  get runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  get isDraining(): boolean {
    return this.draining;
  }

  setTaskCap(cap: number): void {
    this.taskCap = cap;
    this.tick();
  }

  /** Recovers this node's tasks left by a previous run of it, then starts claiming. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await sweepExpiredLeases(this.o.storage.db, {
      nowSql: this.o.storage.capabilities.nowTimestampSql,
      ownNodeId: this.o.nodeId,
      maxAttempts: this.o.maxAttempts,
    });
    taskEvents.on('enqueued', this.onWake);
    taskEvents.on('cancel', this.onCancel);
    await this.o.wakeups.start({ wake: this.onWake, cancel: this.onCancel, onError: this.o.onError });
    this.every(this.o.pollMs, () => this.tick());
    this.every(this.o.cancelPollMs, () => this.pollCancels());
    this.every(this.timing.renewEveryMs, () => this.renew());
    this.every(Math.min(1_000, this.timing.watchdogFeedMs), () => this.giveUpExpiring());
    this.every(this.o.sweepMs, () => this.sweep());
    if (this.o.nodeHeartbeat) this.every(this.timing.heartbeatMs, () => this.heartbeat());
    this.tick();
  }

  /** Stops claiming and resolves once every running task has ended (or `timeoutMs` passed: false). */
  async drain(timeoutMs?: number): Promise<boolean> {
    this.draining = true;
    if (this.o.nodeHeartbeat) await this.heartbeat();
    // A claim that started before the drain still launches what it claims (the rows are this
    // node's by then): wait for it, then for everything running. Taking the running set at once
    // let a drain report "nothing running" while a claim in flight was about to start a task (a
    // stopped node then left it Executing; seen as a flaky executor test).
    const all = this.claimRound
      .then(() => Promise.all([...this.running.values()].map((r) => r.done)))
      .then(() => {
        this.events.emit('drained', { nodeId: this.o.nodeId });
        return true;
      });
    if (timeoutMs === undefined) return all;
    return Promise.race([all, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
  }

  /** Ends the executor. With `abortRunning`, running tasks are aborted (ending Canceled) instead of awaited. */
  async stop(opts: { abortRunning?: boolean } = {}): Promise<void> {
    this.draining = true;
    if (opts.abortRunning) {
      for (const id of this.running.keys()) this.abortTask(id, 'shutdown');
      // a claim in flight still launches what it claims (see drain): abort that as well
      await this.claimRound;
      for (const id of this.running.keys()) this.abortTask(id, 'shutdown');
    }
    await this.drain();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    taskEvents.off('enqueued', this.onWake);
    taskEvents.off('cancel', this.onCancel);
    await this.o.wakeups.stop();
    this.events.emit('stopped', { nodeId: this.o.nodeId });
  }

  abortTask(taskId: string, cause: AbortCause): void {
    const r = this.running.get(taskId);
    if (!r || r.controller.signal.aborted) return;
    r.controller.abort(new TaskAbort(cause));
    this.events.emit('aborted', { nodeId: this.o.nodeId, taskId, cause });
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => {
      Promise.resolve(fn()).catch(this.o.onError);
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Claims as many tasks as there are free slots; a wake during a claim triggers one more round. */
  private tick(): void {
    if (!this.started) return;
    const nodeId = this.o.nodeId;
    if (this.draining) {
      this.events.emit('polled', { nodeId, claimed: 0, skipped: 'draining' });
      return;
    }
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    const free = this.taskCap - this.running.size;
    if (free <= 0) {
      this.events.emit('polled', { nodeId, claimed: 0, skipped: 'full' });
      return;
    }
    this.claiming = true;
    const claimedAt = performance.now();
    this.claimRound = claimTasks(this.o.storage, {
      nodeId: this.o.nodeId,
      limit: free,
      leaseMs: this.o.leaseMs,
    })
      .then((tasks) => {
        if (tasks.length) this.events.emit('claimed', { nodeId, taskIds: tasks.map((t) => t.id) });
        for (const t of tasks) this.launch(t, claimedAt + this.o.leaseMs);
        if (tasks.length === free) this.claimAgain = true;
        this.events.emit('polled', { nodeId, claimed: tasks.length });
      })
      .catch(this.o.onError)
      .finally(() => {
        this.claiming = false;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.tick();
        }
      });
  }

  private launch(task: TaskRecord, leaseValidUntil: number): void {
    const controller = new AbortController();
    const fence = claimFence({ storage: this.o.storage, nodeId: this.o.nodeId }, task);
    const timeout = this.o.taskTimeoutMs
      ? setTimeout(() => this.abortTask(task.id, 'timeout'), this.o.taskTimeoutMs)
      : undefined;
    const done = runClaimedTask(
      {
        storage: this.o.storage,
        key: this.o.key,
        home: this.o.home,
        nodeId: this.o.nodeId,
        keepWorkFolders: this.o.keepWorkFolders,
        onError: this.o.onError,
      },
      task,
      controller,
    )
      .catch((err): TaskState | undefined => {
        this.o.onError(err);
        return undefined;
      })
      .then((state) => {
        clearTimeout(timeout);
        this.running.delete(task.id);
        const ended = { nodeId: this.o.nodeId, taskId: task.id, kind: task.kind, running: this.running.size };
        this.events.emit('finished', state ? { ...ended, state } : ended);
        this.tick();
      });
    this.running.set(task.id, { task, fence, controller, done, leaseValidUntil });
    this.events.emit('launched', {
      nodeId: this.o.nodeId,
      taskId: task.id,
      kind: task.kind,
      attempt: task.attempts,
      running: this.running.size,
    });
  }

  private async pollCancels(): Promise<void> {
    const ids = this.runningTaskIds;
    for (const id of await cancelRequested(this.o.storage.db, this.o.nodeId, ids))
      this.abortTask(id, 'cancel');
  }

  /** A task whose lease we lost (it ran out, or the task was swept) is no longer ours: stop our copy. */
  private async renew(): Promise<void> {
    const runs = [...this.running.values()];
    if (!runs.length) return;
    const sentAt = performance.now();
    const lost = new Set(
      await renewLeases(
        this.o.storage.db,
        runs.map((r) => r.fence),
        this.o.leaseMs,
      ),
    );
    for (const r of runs) {
      if (lost.has(r.task.id)) this.abortTask(r.task.id, 'leaseLost');
      else r.leaseValidUntil = Math.max(r.leaseValidUntil, sentAt + this.o.leaseMs);
    }
  }

  /**
   * A task whose lease this node could not renew in time is given up before the lease runs out:
   * its scripts are killed at once and its writes are refused from then on (task-fence.ts), so
   * when another node resolves it, nothing of this run is still going.
   */
  private giveUpExpiring(): void {
    const now = performance.now();
    for (const r of this.running.values()) {
      if (r.leaseValidUntil - now <= this.timing.giveUpMarginMs) this.abortTask(r.task.id, 'leaseLost');
    }
  }

  private async sweep(): Promise<void> {
    await sweepExpiredLeases(this.o.storage.db, {
      nowSql: this.o.storage.capabilities.nowTimestampSql,
      maxAttempts: this.o.maxAttempts,
    });
    this.tick();
  }

  private async heartbeat(): Promise<void> {
    await heartbeatNode(this.o.storage.db, this.o.nodeId, {
      runningTasks: this.running.size,
      draining: this.draining,
      taskCap: this.taskCap,
    });
  }
}
