import fs from 'node:fs';
import { type Command, Option } from '@commander-js/extra-typings';
import { type Instance, type InstanceRef, loadInstance } from '../../admin/instance-context.js';
import { UsageError } from '../../lib/errors.js';
import {
  initialAdminFile,
  instanceArgs,
  type StartResult,
  startBackground,
  stopNode,
  supervisorPidFile,
  takeInitialAdmin,
  waitForNode,
} from '../../server-process/background-service.js';
import { runningPid } from '../../server-process/run-files.js';
import { serviceStatus } from '../../server-process/service-status.js';
import { superviseNode } from '../../server-process/supervisor.js';
import {
  detectServiceManager,
  installUnit,
  type ServiceManager,
  systemctl,
  uninstallUnit,
  unitName,
} from '../../server-process/systemd-service.js';
import { intOption, withInstance } from '../instance-options.js';
import { out, outFields, outJson } from '../output.js';

const ACTIONS = ['install', 'uninstall', 'start', 'stop', 'restart', 'status', 'supervise'] as const;

export function register(program: Command) {
  withInstance(program.command('service'))
    .description('install, start, stop (draining running tasks) and report the server as a service')
    .option('--install', 'install a systemd unit (where systemd runs)')
    .option('--uninstall', 'stop and remove the systemd unit')
    .option('--start', 'start the server in the background and wait until it answers')
    .option('--stop', 'drain: take no new tasks, wait for running ones, then stop')
    .option('--restart', 'stop (draining) and start again')
    .option('--status', 'report running/stopped, pid, node, URL and running tasks')
    .option('--timeout <seconds>', 'how long --stop waits for running tasks', intOption('--timeout', 1), 600)
    .option('--force', 'with --stop: cancel running tasks first')
    .option('--user <user>', 'with --install: the user the unit runs as')
    .option('--format <format>', 'text or json', 'text')
    .addOption(hiddenSupervise())
    .action(async (o) => {
      const chosen = ACTIONS.filter((a) => o[a]);
      if (chosen.length !== 1) {
        throw new UsageError(
          'Give exactly one of --install, --uninstall, --start, --stop, --restart, --status.',
          { code: 'OPTIONS_CONFLICT' },
        );
      }
      const action = chosen[0]!;
      if (action === 'supervise') return supervise(o);
      const s: ServiceRun = {
        o,
        inst: loadInstance(o),
        manager: detectServiceManager(),
        json: o.format === 'json',
      };
      const result = await RUN[action](s);
      if (s.json && result !== undefined) outJson(result);
    });
}

interface ServiceOptions extends InstanceRef {
  timeout: number;
  force?: boolean;
  user?: string;
}

/** One `service` invocation: its options, the instance, how it is managed, and the output form. */
interface ServiceRun {
  o: ServiceOptions;
  inst: Instance;
  manager: ServiceManager;
  json: boolean;
}

/** Each action returns what `--format json` prints (undefined: nothing), and prints its text itself. */
const RUN: Record<Exclude<(typeof ACTIONS)[number], 'supervise'>, (s: ServiceRun) => Promise<unknown>> = {
  install: async (s) => install(s),
  uninstall: async (s) => (s.manager === 'systemd' ? uninstall(s) : stopService(s)),
  start: startService,
  stop: stopService,
  restart: async (s) => ({ stopped: await stopService(s), started: await startService(s) }),
  status: status,
};

async function stopService({ o, inst, manager, json }: ServiceRun) {
  const r = await stopNode(o, {
    timeoutMs: o.timeout * 1000,
    force: o.force,
    sendStop: manager === 'systemd' ? () => systemctl('stop', '--no-block', unitName(inst.name)) : undefined,
    onProgress: json
      ? undefined
      : (p) =>
          out(
            `Draining: ${p.runningTasks ?? '?'} task(s) running, ${Math.round(p.elapsedMs / 1000)} s elapsed.`,
          ),
  });
  if (json) return r;
  if (!r.wasRunning) out(`Instance "${inst.name}" is not running.`);
  else {
    if (r.canceled.length) out(`Canceled ${r.canceled.length} running task(s): ${r.canceled.join(', ')}.`);
    out(`Stopped instance "${inst.name}" after ${Math.round(r.elapsedMs / 1000)} s.`);
  }
  return r;
}

async function startService({ o, inst, manager, json }: ServiceRun) {
  let r: StartResult;
  if (manager === 'systemd') {
    systemctl('start', unitName(inst.name));
    const logFile = `journalctl -u ${unitName(inst.name)}`;
    const ready = await waitForNode(inst.config.home, 60_000, () => null, logFile);
    r = {
      ...ready,
      alreadyRunning: false,
      logFile,
      initialAdmin: takeInitialAdmin(initialAdminFile(inst.config.home)),
    };
  } else r = await startBackground(o);
  if (json) return r;
  if (r.alreadyRunning) out(`Instance "${inst.name}" is already running (pid ${r.pid}) at ${r.url}.`);
  else out(`Started instance "${inst.name}" (pid ${r.pid}) at ${r.url}. Output: ${r.logFile}`);
  if (r.initialAdmin) {
    out(`First start: created the administrator "${r.initialAdmin.username}" with the API key`);
    out(`  ${r.initialAdmin.apiKey}`);
    out('Keep it now: it is stored hashed and cannot be shown again.');
  }
  return r;
}

function install({ o, inst, manager, json }: ServiceRun) {
  if (manager !== 'systemd') {
    out('systemd is not running here (PID 1 is not systemd), so there is no unit to install.');
    out('Run the server in the background with `cuttle service --start`; it writes a pid file in the home.');
    return undefined;
  }
  const file = installUnit({
    instance: inst.name,
    home: inst.config.home,
    ref: o,
    user: o.user,
    stopTimeoutS: o.timeout,
  });
  if (json) return { unit: file };
  out(`Installed and enabled ${file}. Start it with --start.`);
  return undefined;
}

function uninstall({ inst, json }: ServiceRun) {
  const file = uninstallUnit(inst.name);
  if (json) return { removed: file };
  out(`Removed ${file}.`);
  return undefined;
}

async function status({ o, manager, json }: ServiceRun) {
  const s = { ...(await serviceStatus(o)), manager };
  if (json) return s;
  outFields([
    ['Instance', s.instance],
    ['State', s.draining ? 'running (draining)' : s.state],
    ['PID', s.pid ?? '-'],
    ['Node', s.nodeName],
    ['URL', s.url ?? '-'],
    ['Running tasks', s.runningTasks ?? 'unknown (database unreachable)'],
    ['Started', s.startedAt ?? '-'],
    [
      'Replica',
      s.replicaOf ? `yes: a test copy made ${s.replicaOf.created} from ${s.replicaOf.from.archive}` : 'no',
    ],
    ['Managed by', manager === 'systemd' ? `systemd (${unitName(s.instance)})` : 'background process'],
  ]);
  return undefined;
}

/** Internal: the detached supervisor that `--start` launches (not for users, so not in --help). */
function hiddenSupervise() {
  return new Option('--supervise').hideHelp();
}

async function supervise(o: { instance?: string; config?: string; masterKeyFile?: string }) {
  const inst = loadInstance(o);
  const home = inst.config.home;
  fs.writeFileSync(supervisorPidFile(home), `${process.pid}\n`);
  try {
    const log = (line: string) => out(`[supervisor ${new Date().toISOString()}] ${line}`);
    if (runningPid(home)) return;
    process.exitCode = await superviseNode(instanceArgs(o), log);
  } finally {
    fs.rmSync(supervisorPidFile(home), { force: true });
  }
}
