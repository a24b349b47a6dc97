import type { Command } from '@commander-js/extra-typings';
import { ensureRunnableInstance } from '../../server-process/default-instance.js';
import { startNode } from '../../server-process/node-process.js';
import { withInstance } from '../instance-options.js';
import { err, out } from '../output.js';

/** While draining, how often the remaining running tasks are reported. */
const DRAIN_PROGRESS_MS = 5_000;

export function register(program: Command) {
  withInstance(program.command('run'))
    .description('run the server in the foreground (SIGTERM or Ctrl+C drains: running tasks finish first)')
    .option('--home <dir>', 'create the instance in this folder if it is not registered yet')
    .option('--listen <url>', 'listen on this URL instead of the configured one')
    .option('--allow-retired-node', 'start even though this node was retired (it was replaced by a move)')
    .action(async (o) => {
      for (const line of await ensureRunnableInstance(o)) out(line);
      const node = await startNode({
        instanceRef: o,
        listen: o.listen,
        allowRetiredNode: o.allowRetiredNode,
        initialAdminFile: process.env.CUTTLE_INITIAL_ADMIN_FILE,
        print: out,
      });
      let signals = 0;
      let progress: NodeJS.Timeout | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          err(`${signal} again: canceling ${node.executor.runningCount} running task(s) and stopping.`);
          void node.shutdown({ abortRunning: true });
          return;
        }
        const running = node.executor.runningCount;
        out(
          running
            ? `${signal}: draining. Waiting for ${running} running task(s) to finish; taking no new ones. (${signal} again cancels them.)`
            : `${signal}: stopping.`,
        );
        const started = Date.now();
        progress = setInterval(() => {
          const s = Math.round((Date.now() - started) / 1000);
          out(`Draining: ${node.executor.runningCount} task(s) still running (${s} s).`);
        }, DRAIN_PROGRESS_MS);
        progress.unref();
        void node.shutdown();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      await node.closed;
      clearInterval(progress);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      out(`Node "${node.nodeId}" stopped.`);
    });
}
