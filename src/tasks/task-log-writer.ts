import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../lib/clock.js';
import { TypedEmitter } from '../lib/typed-emitter.js';
import type { Database, TaskLogChunkRow } from '../storage/schema/database-types.js';
import { fencedWrite, LeaseLostError, type TaskFence } from './task-fence.js';
import type { LogCategory, TaskLog } from './task-types.js';

export const MASK = '********';
/** Lines reach the database within this, so a watcher sees a running script's output. */
export const FLUSH_INTERVAL_MS = 300;
/** A chunk holds consecutive lines of one activity and category, up to this many characters. */
const MAX_CHUNK_CHARS = 64 * 1024;
/** Rows per INSERT: far below PostgreSQL's 65535 bind parameters at 6 columns a row. */
const INSERT_BATCH = 500;
/**
 * While a reader on this node watches the task's log (the task page's stream), a line is flushed
 * this soon instead: the same fenced write, only sooner and more often, so a watched log reaches
 * the page in well under the 250 ms aim while an unwatched one keeps the cheaper interval.
 */
export const WATCHED_FLUSH_INTERVAL_MS = 40;

/** What a log writer tells its watchers: counts only, never a line's text. */
export interface TaskLogEvents {
  /** A flush wrote `rows` chunk rows (0 when nothing was buffered) and everything before it. */
  flushed: { taskId: string; rows: number };
}

export interface TaskLogOptions {
  defaultActivityId?: string;
  /** No earlier chunks exist (a first attempt): saves the max(seq) lookup. */
  fresh?: boolean;
  /** Times the background flush and the lines; the real clock unless a test moves time. */
  clock?: Clock;
  /**
   * The claim the lines are written under: each flush is refused once the claim lost the task
   * (task-fence.ts), and the writer then drops what it holds and writes nothing more.
   */
  fence?: TaskFence;
  /** Told once when a flush was refused because the claim lost the task. */
  onLeaseLost?: (err: LeaseLostError) => void;
}

type FlushListener = (event: TaskLogEvents['flushed']) => void;

/** Who watches which task's log in this process, per database handle (a test process holds several). */
const logWatchers = new WeakMap<object, Map<string, Set<FlushListener>>>();

function watchersOf(db: object, taskId: string): Set<FlushListener> | undefined {
  return logWatchers.get(db)?.get(taskId);
}

/**
 * Watches a task's log as written by this process on `db`: while watched, its writer flushes
 * within WATCHED_FLUSH_INTERVAL_MS of a line, and `onFlushed` is told (counts only) right after
 * each of its flushes committed, so a stream reads the new rows at once instead of at its next
 * look. Works before the writer exists (a queued task). Returns the function that stops watching.
 */
export function watchTaskLog(db: object, taskId: string, onFlushed: FlushListener): () => void {
  let byTask = logWatchers.get(db);
  if (!byTask) {
    byTask = new Map();
    logWatchers.set(db, byTask);
  }
  let set = byTask.get(taskId);
  if (!set) {
    set = new Set();
    byTask.set(taskId, set);
  }
  set.add(onFlushed);
  return () => {
    set.delete(onFlushed);
    if (!set.size && byTask.get(taskId) === set) byTask.delete(taskId);
  };
}

interface PendingLine {
  activityId: string;
  category: LogCategory;
  occurred: string;
  text: string;
}

/**
 * The task log, written while the task runs: lines are buffered and flushed as append-only rows of
 * `task_log_chunks` (task_id, seq, activity_id, category, occurred, text) every FLUSH_INTERVAL_MS
 * and on `flush()`. One row holds consecutive lines of one activity and category joined by "\n";
 * `occurred` is the time of its first line. Readers order by seq.
 *
 * Masking happens on write, before a line is buffered: a sensitive value never reaches the
 * database, not even for the few hundred milliseconds before a flush.
 */
export class TaskLogWriter implements TaskLog {
  private pending: PendingLine[] = [];
  private masks: string[] = [];
  private cancelTimer: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The last background flush error; reported once by `flush()` so a dead database is not silent. */
  private lastError: unknown;
  readonly events = new TypedEmitter<TaskLogEvents>();

  private constructor(
    private readonly db: Kysely<Database>,
    readonly taskId: string,
    private nextSeq: number,
    readonly defaultActivityId: string,
    private readonly clock: Clock,
    private readonly fence?: TaskFence,
    private readonly onLeaseLost?: (err: LeaseLostError) => void,
  ) {
    // the watchers of this task (watchTaskLog) hear of every flush that committed
    this.events.on('flushed', (e) => {
      for (const l of watchersOf(this.db, this.taskId) ?? []) {
        try {
          l(e);
        } catch {
          // a watcher must never break the writer
        }
      }
    });
  }

  /**
   * Continues after the task's existing chunks (a requeued task keeps its earlier log);
   * `fresh` says there are none (a first attempt), saving the lookup.
   */
  static async open(db: Kysely<Database>, taskId: string, opts: TaskLogOptions = {}): Promise<TaskLogWriter> {
    const make = (next: number) =>
      new TaskLogWriter(
        db,
        taskId,
        next,
        opts.defaultActivityId ?? taskId,
        opts.clock ?? systemClock,
        opts.fence,
        opts.onLeaseLost,
      );
    if (opts.fresh) return make(0);
    const r = await db
      .selectFrom('task_log_chunks')
      .select((eb) => eb.fn.max('seq').as('max'))
      .where('task_id', '=', taskId)
      .executeTakeFirst();
    return make(r?.max === null || r?.max === undefined ? 0 : Number(r.max) + 1);
  }

  mask(values: string[]): void {
    const add = new Set(this.masks);
    for (const v of values) {
      if (!v) continue;
      add.add(v);
      // A multi-line secret is printed line by line as often as whole.
      for (const line of v.split(/\r?\n/)) if (line.trim().length >= 3) add.add(line);
    }
    this.masks = [...add].sort((a, b) => b.length - a.length);
  }

  maskText(text: string): string {
    let out = text;
    for (const m of this.masks) if (out.includes(m)) out = out.split(m).join(MASK);
    return out;
  }

  write(category: LogCategory, message: string, activityId?: string): void {
    if (this.closed) return;
    const occurred = new Date(this.clock.now()).toISOString();
    const activity = activityId ?? this.defaultActivityId;
    for (const line of this.maskText(message).split(/\r?\n/)) {
      this.pending.push({ activityId: activity, category, occurred, text: line });
    }
    this.schedule();
    this.scheduleWatched();
  }

  info(message: string, activityId?: string): void {
    this.write('Info', message, activityId);
  }

  warn(message: string, activityId?: string): void {
    this.write('Warning', message, activityId);
  }

  error(message: string, activityId?: string): void {
    this.write('Error', message, activityId);
  }

  /** Writes everything buffered so far; rejects if the database refused lines (they stay buffered). */
  flush(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const run = this.chain.then(() => this.writePending());
    this.chain = run.catch(() => {});
    return run;
  }

  /** Final flush; later writes are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.cancelWatchedTimer?.();
    this.cancelWatchedTimer = undefined;
  }

  private cancelWatchedTimer: (() => void) | undefined;

  /** The sooner flush of a watched log: a second timer beside `schedule`'s; `flush()` cancels that one. */
  private scheduleWatched(): void {
    if (this.cancelWatchedTimer || this.closed || !watchersOf(this.db, this.taskId)?.size) return;
    this.cancelWatchedTimer = this.clock.setTimer(WATCHED_FLUSH_INTERVAL_MS, () => {
      this.cancelWatchedTimer = undefined;
      if (this.closed) return;
      this.flush().catch((err) => {
        this.lastError = err;
        this.schedule();
      });
    });
  }

  private schedule(): void {
    if (this.cancelTimer || this.closed) return;
    this.cancelTimer = this.clock.setTimer(FLUSH_INTERVAL_MS, () => {
      this.cancelTimer = undefined;
      this.flush().catch((err) => {
        this.lastError = err;
        this.schedule();
      });
    });
  }

  /** Rows numbered but not yet in the database (a failed write); retried first, seq unchanged. */
  private unwritten: TaskLogChunkRow[] = [];

  private async writePending(): Promise<void> {
    const rows = this.unwritten.concat(this.toChunks(this.pending));
    this.pending = [];
    this.unwritten = rows;
    while (this.unwritten.length) {
      const batch = this.unwritten.slice(0, INSERT_BATCH);
      try {
        if (this.fence) {
          await fencedWrite(this.db, this.fence, (trx) =>
            trx.insertInto('task_log_chunks').values(batch).execute(),
          );
        } else {
          await this.db.insertInto('task_log_chunks').values(batch).execute();
        }
      } catch (err) {
        if (err instanceof LeaseLostError) this.leaseLost(err);
        throw err;
      }
      this.unwritten = this.unwritten.slice(INSERT_BATCH);
    }
    this.lastError = undefined;
    this.events.emit('flushed', { taskId: this.taskId, rows: rows.length });
  }

  /** The task is another claim's now: nothing this writer holds may land, and nothing more is taken. */
  private leaseLost(err: LeaseLostError): void {
    const first = !this.closed;
    this.closed = true;
    this.pending = [];
    this.unwritten = [];
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (first) this.onLeaseLost?.(err);
  }

  private toChunks(lines: PendingLine[]): TaskLogChunkRow[] {
    const rows: TaskLogChunkRow[] = [];
    for (const l of lines) {
      const last = rows[rows.length - 1];
      if (
        last &&
        last.activity_id === l.activityId &&
        last.category === l.category &&
        last.text.length + l.text.length < MAX_CHUNK_CHARS
      ) {
        last.text += `\n${l.text}`;
        continue;
      }
      rows.push({
        task_id: this.taskId,
        seq: this.nextSeq++,
        activity_id: l.activityId,
        category: l.category,
        occurred: l.occurred,
        text: l.text,
      });
    }
    return rows;
  }

  get failing(): unknown {
    return this.lastError;
  }
}
