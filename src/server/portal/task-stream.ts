import type { Kysely } from 'kysely';
import { logChunksAfter, taskHead, watchLocalTaskLog } from '../../core/task-stream-service.js';
import type { Database } from '../../storage/schema/database-types.js';
import type { TableChanges } from '../../storage/table-changes.js';
import type { SseClient } from './sse.js';

/**
 * How often this node's own writes to the task are looked for (a table version compare: no
 * query). Its log lines need no look: the writer says when it flushed (watchLocalTaskLog).
 */
const LOCAL_MS = 25;
/** How often the database is asked anyway: a task running on another node writes elsewhere. */
const REMOTE_MS = 500;

/**
 * Streams one task to one page: `task` (the task and its activities) whenever it changes,
 * `lines` with every log chunk after the one the page has, and `end` once the task is completed
 * and its whole log was sent. A reconnecting page says what it has (`after`), so nothing is sent twice.
 *
 * A task running on this node is watched (watchLocalTaskLog): its writer flushes sooner while the
 * page is open, and each flush, once committed, makes this read the new chunks at once rather than
 * at the next look. What is sent is always what the database holds, so a page never shows a line
 * that a refused (fenced) write did not store.
 */
export async function streamTask(
  db: Kysely<Database>,
  changes: TableChanges,
  client: SseClient,
  taskId: string,
  after: number,
): Promise<void> {
  let seq = after;
  let taskVersion = -1;
  let lastAsked = 0;
  let lastHead = '';
  let busy = false;
  /** A flush was announced while a read ran: read the lines again once it is done. */
  let linesWanted = false;
  const sendLines = async () => {
    for (;;) {
      const chunks = await logChunksAfter(db, taskId, seq);
      if (!chunks.length) break;
      seq = chunks[chunks.length - 1]!.Seq;
      client.send('lines', { Chunks: chunks });
      if (chunks.length < 2_000) break;
    }
  };
  const afterRead = () => {
    if (!linesWanted || client.closed) return;
    linesWanted = false;
    pumpLines().catch(() => client.close());
  };
  const pumpLines = async () => {
    if (client.closed) return;
    if (busy) {
      linesWanted = true;
      return;
    }
    busy = true;
    try {
      await sendLines();
    } finally {
      busy = false;
    }
    afterRead();
  };
  const pump = async () => {
    if (busy || client.closed) return;
    const now = Date.now();
    // Not the log's version: with many tasks running it moves every few milliseconds for lines of
    // other tasks, and this task's lines written here are announced by their writer. Lines
    // written otherwise change the task too (a sweep's line), or come from another node.
    const tv = changes.version('server_tasks');
    const remote = now - lastAsked >= REMOTE_MS;
    if (tv === taskVersion && !remote) return;
    busy = true;
    try {
      lastAsked = now;
      taskVersion = tv;
      linesWanted = false;
      await sendLines();
      const head = await taskHead(db, taskId);
      const json = JSON.stringify(head);
      if (json !== lastHead) {
        lastHead = json;
        client.send('task', head);
      }
      if (head.IsCompleted) {
        // lines written just before completion are read once more, then the stream ends
        const rest = await logChunksAfter(db, taskId, seq);
        if (rest.length) {
          seq = rest[rest.length - 1]!.Seq;
          client.send('lines', { Chunks: rest });
        }
        client.send('end', { LastSeq: seq });
        client.close();
      }
    } finally {
      busy = false;
    }
    afterRead();
  };
  const unwatch = watchLocalTaskLog(db, taskId, () => {
    pumpLines().catch(() => client.close());
  });
  client.onClose(unwatch);
  try {
    await pump();
  } catch (err) {
    unwatch();
    throw err;
  }
  if (client.closed) return;
  const timer = setInterval(() => {
    pump().catch(() => client.close());
  }, LOCAL_MS);
  timer.unref();
  client.onClose(() => clearInterval(timer));
}
