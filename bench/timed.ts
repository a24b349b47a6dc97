import { spawnSync } from 'node:child_process';
import {
  type CpuSeconds,
  commandCpuSeconds,
  postgresCpuSeconds,
  settledPostgresCpuSeconds,
} from './cpu-account.js';

/** One timed command of a bench: wall time, peak RSS and CPU (cpu-account.ts), exit status, output. */
export interface Run {
  seconds: number;
  /** /usr/bin/time -v's "Maximum resident set size" of the command. */
  maxRssMb: number;
  status: number;
  cpu: CpuSeconds;
  /** stdout and stderr (where a move prints its downtime). */
  out: string;
}

/** Runs `cmd` under /usr/bin/time -v with `env` added; a failure's output goes to stderr. */
export function timed(cmd: string, cmdArgs: string[], env: Record<string, string> = {}): Run {
  const pgBefore = postgresCpuSeconds();
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...cmdArgs], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = {
    command: commandCpuSeconds(r.stderr ?? ''),
    postgres: settledPostgresCpuSeconds() - pgBefore,
  };
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) {
    process.stderr.write(
      `${cmd} ${cmdArgs.join(' ')} failed:\n${r.stdout}\n${(r.stderr ?? '').slice(-4000)}\n`,
    );
  }
  return {
    seconds,
    maxRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
    status: r.status ?? -1,
    cpu,
    out: `${r.stdout}\n${r.stderr}`,
  };
}
