import { spawn } from 'node:child_process';
import { TIMING } from './lease-timing.js';

/**
 * A script never outlives its node, nor runs on while its node cannot act as the task's owner.
 * The node runs each script as the leader of its own process group (so cancel can kill all it
 * started); a node that dies (SIGKILL included) cannot kill that group itself, and its tasks are
 * then resolved by another node, so a script left running would run beside its own retry. Each
 * group therefore gets a watchdog: a tiny bash loop reading a pipe from the node, which the node
 * feeds a line every WATCHDOG_FEED_MS. The read ends when the kernel closes the pipe (the node
 * died, however it died) or when no line came for half a lease (the node is paused or hung and
 * cannot renew: lease-timing.ts says why half a lease is still before the lease runs out); the
 * watchdog then SIGKILLs the whole group at once. Pipes are close-on-exec, so no script holds the
 * node's end open. When the step ends normally the watchdog is killed first, so it never signals
 * a group that has gone (or a later group that reuses the number).
 */
export function watchGroup(pgid: number, timing = TIMING): { release(): void } {
  const starve = (timing.watchdogStarveMs / 1000).toFixed(3);
  const dog = spawn(
    '/bin/bash',
    [
      '-c',
      'while read -r -t "$2" _ignored; do :; done; kill -s KILL -- "-$1" 2>/dev/null',
      'cuttle-group-watchdog',
      String(pgid),
      starve,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  const feed = setInterval(() => dog.stdin?.write('\n'), timing.watchdogFeedMs);
  feed.unref();
  return {
    release: () => {
      clearInterval(feed);
      dog.kill('SIGKILL');
    },
  };
}
