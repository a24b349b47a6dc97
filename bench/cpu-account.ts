import fs from 'node:fs';

/**
 * Where the CPU of a timed command went, on a machine where everything shares 2 cores: the
 * command's own (with its children, e.g. zstd or pg_dump's pipe partner) from /usr/bin/time -v,
 * and PostgreSQL's, read from /proc before and after. A backend that exits during the run is
 * counted through the postmaster, which reaps it (its cutime/cstime grow by the backend's time).
 * Both clusters of a move are counted (every process named postgres). Linux only; elsewhere NaN.
 * A backend still exiting when its client has returned is in neither sum for a moment (measured:
 * half the samples taken right after a client exited missed its backend's time), so the reading
 * after a command waits until the total stops moving (`settledPostgresCpuSeconds`).
 */
export interface CpuSeconds {
  command: number;
  postgres: number;
}

const TICK = 100; // USER_HZ: /proc reports clock ticks of 1/100 s on Linux

/** Total CPU seconds of every postgres process, including the reaped ones (see above). */
export function postgresCpuSeconds(): number {
  let ticks = 0;
  let dirs: string[];
  try {
    dirs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return Number.NaN;
  }
  for (const pid of dirs) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (stat.slice(open + 1, close) !== 'postgres') continue;
    // fields after the command: state is field 3; utime, stime, cutime, cstime are fields 14 to 17
    const f = stat.slice(close + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / TICK;
}

/** postgresCpuSeconds once two readings 150 ms apart agree (at most 3 s): after a command. */
export function settledPostgresCpuSeconds(): number {
  let last = postgresCpuSeconds();
  for (let i = 0; i < 20; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
    const now = postgresCpuSeconds();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** The command's user + system seconds from /usr/bin/time -v's report. */
export function commandCpuSeconds(timeReport: string): number {
  const user = /User time \(seconds\): ([\d.]+)/.exec(timeReport);
  const system = /System time \(seconds\): ([\d.]+)/.exec(timeReport);
  return user && system ? Number(user[1]) + Number(system[1]) : Number.NaN;
}

export const cpuCell = (c: CpuSeconds) => `${c.command.toFixed(1)} + ${c.postgres.toFixed(1)}`;
