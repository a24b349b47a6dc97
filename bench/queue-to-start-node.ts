/**
 * One executor node of bench/queue-to-start.ts, in a process of its own:
 * `node --import tsx bench/queue-to-start-node.ts <connection string> listen|poll <node id>`.
 * It runs `QueueToStart` tasks (which do nothing) with the production settings (poll every second,
 * the default lease and sweep), and tells its parent over IPC when it launched one (and when it
 * last heard a notification, to split the figure up). `poll` is the
 * same node without its listener: it hears of other processes' tasks only by polling.
 */
import { parseConnectionString } from '../src/config/connection-string.js';
import { MasterKey } from '../src/crypto/master-key.js';
import { openStorage } from '../src/storage/storage.js';
import { registerTaskHandler } from '../src/tasks/handler-registry.js';
import { TaskExecutor } from '../src/tasks/task-executor.js';
import { TaskWakeups } from '../src/tasks/task-wakeups.js';
import { tempDir } from '../test/helpers/engines.js';

const [connectionString, mode, nodeId] = process.argv.slice(2) as [string, 'listen' | 'poll', string];

/** The node's wake-ups without the listener: polling only. */
class PollingOnly extends TaskWakeups {
  override async start(): Promise<void> {}
}

/** Wall-clock milliseconds at sub-millisecond resolution, comparable between the bench's processes. */
const now = () => performance.timeOrigin + performance.now();

registerTaskHandler('QueueToStart', async () => undefined);
const storage = await openStorage(parseConnectionString(connectionString));
const wakeups = mode === 'poll' ? new PollingOnly(storage) : new TaskWakeups(storage);
let notifiedAt: number | undefined;
wakeups.events.on('notified', () => {
  notifiedAt = now();
});
const executor = new TaskExecutor({
  storage,
  key: MasterKey.generate(),
  home: tempDir('queue-to-start'),
  nodeId,
  taskCap: 5,
  wakeups,
  onError: (err) => process.stderr.write(`${nodeId}: ${err instanceof Error ? err.message : String(err)}\n`),
});
executor.events.on('launched', (e) => {
  process.send?.({ launched: e.taskId, nodeId, at: now(), notifiedAt });
});
await executor.start();
process.send?.({ ready: nodeId });
process.on('message', (m) => {
  if (m !== 'stop') return;
  void executor
    .stop()
    .then(() => storage.close())
    .then(() => process.exit(0));
});
