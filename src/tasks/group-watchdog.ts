import { spawn } from 'node:child_process';

/**
 * A script never outlives its node. The node runs each script as the leader of its own process
 * group (so cancel can kill all it started); a node that dies (SIGKILL included) cannot kill that
 * group itself, and its tasks are then resolved by another node, so a script left running would
 * run beside its own retry. Each group therefore gets a watchdog: a tiny `sh` that blocks reading
 * a pipe from the node. The kernel closes the pipe when the node dies, however it dies; `read`
 * returns and the watchdog SIGKILLs the whole group at once. Pipes are close-on-exec, so no
 * script holds the node's end open. When the step ends normally the watchdog is killed first, so
 * it never signals a group that has gone (or a later group that reuses the number).
 */
export function watchGroup(pgid: number): { release(): void } {
  const dog = spawn(
    '/bin/sh',
    ['-c', 'read _ignored; kill -s KILL -- "-$1" 2>/dev/null', 'cuttle-group-watchdog', String(pgid)],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  return {
    release: () => {
      dog.kill('SIGKILL');
    },
  };
}
