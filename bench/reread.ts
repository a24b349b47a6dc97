import { TABLES } from '../src/storage/schema/tables.js';
import { type Run, timed } from './timed.js';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * The cheapest verification read a reference tool could add: every Cuttle table read back once
 * from the database it just wrote, `psql \copy ... TO '/dev/null'`, two tables at a time (the
 * machine's cores), nothing hashed or compared. Cuttle's verified commands re-read their target
 * and hash both sides; the reference tools verify nothing. The reference's time plus this one is
 * a lower bound for the reference tool made to check its work the way Cuttle does, so the benches
 * print the verified command against it as well as against the bare tool.
 */
export function rereadAll(host: string, port: number, db: string): Run {
  const list = TABLES.map((t) => t.name).join(' '); // plain identifiers: no quoting needed
  const psql = `${PG_BIN}/psql -X -q -h ${host} -p ${port} -U postgres -d ${db}`;
  return timed('bash', [
    '-o',
    'pipefail',
    '-c',
    `printf '%s\\n' ${list} | xargs -P2 -I{} ${psql} -c "\\copy \\"{}\\" TO '/dev/null'"`,
  ]);
}

/** A reference run followed by its re-read, as one run (times and CPU added). */
export function plusReread(ref: Run, reread: Run): Run {
  return {
    seconds: ref.seconds + reread.seconds,
    maxRssMb: Math.max(ref.maxRssMb, reread.maxRssMb),
    status: ref.status || reread.status,
    cpu: {
      command: ref.cpu.command + reread.cpu.command,
      postgres: ref.cpu.postgres + reread.cpu.postgres,
    },
    out: '',
  };
}
