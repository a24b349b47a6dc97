import { spawn } from 'node:child_process';
import { cuttleCommand } from './child-command.js';

/**
 * `cuttle service --start` without systemd runs this supervisor detached: it runs `cuttle run`
 * and restarts it when it crashes, as systemd's Restart=on-failure would. It does not restart a
 * node that exited 0 (drained on request) or 2 (a precondition such as a fenced database or a
 * retired node: running it again cannot help). SIGTERM/SIGINT are forwarded, so the node drains.
 */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10 * 60_000;
const EXIT_PRECONDITION = 2;

export async function superviseNode(runArgs: string[], log: (line: string) => void): Promise<number> {
  const restarts: number[] = [];
  let stopping = false;
  for (;;) {
    const [cmd, args] = cuttleCommand(['run', ...runArgs]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const forward = (signal: NodeJS.Signals) => {
      stopping = true;
      child.kill(signal);
    };
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
    const code = await new Promise<number>((resolve) => {
      child.on('exit', (c, sig) => resolve(c ?? (sig === 'SIGKILL' ? 137 : 143)));
      child.on('error', () => resolve(127));
    });
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
    if (stopping || code === 0 || code === EXIT_PRECONDITION) return code;
    const now = Date.now();
    while (restarts.length && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS) {
      log(`cuttle run exited with code ${code}; it failed ${MAX_RESTARTS} times in 10 minutes: giving up.`);
      return code;
    }
    restarts.push(now);
    const delay = 1000 * 2 ** (restarts.length - 1);
    log(`cuttle run exited with code ${code}; restarting in ${delay / 1000} s.`);
    await new Promise((r) => setTimeout(r, delay));
    if (stopping) return code;
  }
}
