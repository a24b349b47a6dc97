import { spawnSync } from 'node:child_process';
import path from 'node:path';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * Run before each timed command: a CHECKPOINT on every PostgreSQL cluster in play, then `sync`, so
 * that no command pays for writing back what the one before it wrote. A checkpoint falling inside a
 * run made the same move up to 50% slower on this machine (22 s vs 33 s). Our commands and the
 * reference tools get the same treatment.
 */
export function settle(ports: number[], host = process.env.CUTTLE_TEST_PG_HOST ?? '127.0.0.1'): void {
  for (const port of ports) {
    spawnSync(
      path.join(PG_BIN, 'psql'),
      ['-h', host, '-p', String(port), '-U', 'postgres', '-qc', 'CHECKPOINT', 'postgres'],
      {
        stdio: 'ignore',
      },
    );
  }
  spawnSync('sync', [], { stdio: 'ignore' });
}
