import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { InstanceRef } from '../admin/instance-context.js';
import { PreconditionError, RuntimeFailure } from '../lib/errors.js';
import { initialAdminFile, instanceArgs } from './background-service.js';
import { cuttleCommand } from './child-command.js';

/**
 * Where PID 1 is systemd, `cuttle service` manages a unit `cuttle-<instance>.service`, the
 * equivalent of Octopus's Windows service. CUTTLE_SERVICE_MANAGER=background|systemd overrides
 * the detection (a container whose PID 1 is a shell is "background").
 */
export type ServiceManager = 'systemd' | 'background';

export function detectServiceManager(): ServiceManager {
  const forced = process.env.CUTTLE_SERVICE_MANAGER;
  if (forced === 'systemd' || forced === 'background') return forced;
  try {
    return fs.readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' ? 'systemd' : 'background';
  } catch {
    return 'background';
  }
}

export function unitName(instance: string): string {
  return `cuttle-${instance.replace(/[^A-Za-z0-9_.-]/g, '-')}.service`;
}

function unitPath(instance: string): string {
  return path.join(process.env.CUTTLE_SYSTEMD_DIR ?? '/etc/systemd/system', unitName(instance));
}

/** SIGTERM drains; systemd waits TimeoutStopSec (the drain budget) before it kills. */
export interface UnitOptions {
  instance: string;
  home: string;
  ref: InstanceRef;
  user?: string;
  stopTimeoutS: number;
}

export function unitFile(opts: UnitOptions): string {
  const [cmd, args] = cuttleCommand(['run', ...instanceArgs(opts.ref)]);
  const exec = [cmd, ...args];
  return [
    '[Unit]',
    `Description=Cuttle deployment server (instance ${opts.instance})`,
    'After=network-online.target postgresql.service mariadb.service mysql.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec.map(quote).join(' ')}`,
    'Restart=on-failure',
    'RestartPreventExitStatus=2',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${opts.stopTimeoutS}`,
    ...(opts.user ? [`User=${opts.user}`] : []),
    // The first-start administrator key goes to a 0600 file for `service --start`, not to the journal.
    `Environment=CUTTLE_INITIAL_ADMIN_FILE=${quote(initialAdminFile(opts.home))}`,
    ...(process.env.CUTTLE_REGISTRY
      ? [`Environment=CUTTLE_REGISTRY=${quote(process.env.CUTTLE_REGISTRY)}`]
      : []),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

export function systemctl(...args: string[]): string {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.error)
    throw new RuntimeFailure(`systemctl could not be run: ${r.error.message}`, { code: 'SYSTEMD_FAILED' });
  if (r.status !== 0 && args[0] !== 'is-active') {
    throw new RuntimeFailure(`systemctl ${args.join(' ')} failed (exit ${r.status}).`, {
      code: 'SYSTEMD_FAILED',
      details: (r.stderr || r.stdout).trim().split('\n'),
    });
  }
  return r.stdout.trim();
}

export function installUnit(opts: UnitOptions): string {
  const file = unitPath(opts.instance);
  try {
    fs.writeFileSync(file, unitFile(opts), { mode: 0o644 });
  } catch (e) {
    throw new PreconditionError(`Cannot write ${file}: ${(e as Error).message}`, {
      code: 'PATH_INVALID',
      hints: ['Installing a systemd unit needs root: run it with sudo.'],
    });
  }
  systemctl('daemon-reload');
  systemctl('enable', unitName(opts.instance));
  return file;
}

export function uninstallUnit(instance: string): string {
  const file = unitPath(instance);
  if (fs.existsSync(file)) {
    systemctl('disable', '--now', unitName(instance));
    fs.rmSync(file);
    systemctl('daemon-reload');
  }
  return file;
}
