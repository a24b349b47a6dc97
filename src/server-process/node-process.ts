import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { registerBackupTasks } from '../admin/backup/backup-task-handler.js';
import {
  type Instance,
  type InstanceRef,
  loadInstance,
  openInstanceStorage,
} from '../admin/instance-context.js';
import { writeFileAtomic } from '../config/atomic-file.js';
import type { MasterKey } from '../crypto/master-key.js';
import { nowIso } from '../lib/clock.js';
import { PreconditionError } from '../lib/errors.js';
import { createServerLogger } from '../server/server-logger.js';
import type { Storage } from '../storage/storage.js';
import { markNodeStopped, registerNode } from '../tasks/node-registry.js';
import { TaskExecutor } from '../tasks/task-executor.js';
import { sweepWorkFolders } from '../tasks/work-folders.js';
import { type CoreServices, coreServices } from './core-bindings.js';
import { watchNodeDrain } from './node-drain.js';
import { watchOfflineNodes } from './offline-nodes.js';
import { removeRunFiles, runningPid, writeNodeState, writePidFile } from './run-files.js';

export interface StartNodeOptions {
  instanceRef: InstanceRef;
  /** Overrides the config's listen URL (port 0 picks a free port). */
  listen?: string;
  allowRetiredNode?: boolean;
  /** Where the node's console lines go (URL, first-start API key, drain progress). */
  print?: (line: string) => void;
  /**
   * Hand the first-start administrator key over in this file (mode 0600) instead of printing it:
   * `service --start` runs the node with its output going to a log file, where a key must not land.
   */
  initialAdminFile?: string;
  /** For tests: the core services, instead of the real ones. */
  services?: CoreServices;
}

export interface NodeHandle {
  url: string;
  nodeId: string;
  instance: string;
  home: string;
  storage: Storage;
  key: MasterKey;
  executor: TaskExecutor;
  app: FastifyInstance;
  readonly draining: boolean;
  /** Drain (take no new tasks, let running ones end), then close the server and the database. */
  shutdown(opts?: { abortRunning?: boolean }): Promise<void>;
  /** Resolves when the node has shut down. */
  closed: Promise<void>;
}

function parseListen(listen: string): { host: string; port: number; protocol: string } {
  let u: URL;
  try {
    u = new URL(listen);
  } catch {
    throw new PreconditionError(`The listen address "${listen}" is not a URL.`, {
      code: 'CONFIG_INVALID',
      hints: ['Use the form http://HOST:PORT, e.g. `cuttle configure --listen http://0.0.0.0:8080`.'],
    });
  }
  if (u.protocol !== 'http:') {
    throw new PreconditionError(`Cuttle serves plain http; "${listen}" asks for ${u.protocol}.`, {
      code: 'CONFIG_INVALID',
      hints: ['Put a TLS-terminating proxy in front of Cuttle for https.'],
    });
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 80,
    protocol: u.protocol,
  };
}

/** Who the first start made administrator: shown once, or handed over in a file. */
type InitialAdmin = { username: string; apiKey: string } | undefined;

/** What the node's parts read while it runs: set once a shutdown begins. */
interface NodeState {
  draining: boolean;
  drainSwitch?: { stop(): void };
  offlineNodes?: { stop(): void };
}

/**
 * Starts one node of an instance: checks the database (reachable, schema current, right master
 * key, not fenced), refuses a retired node, seeds, listens, and starts the task executor.
 * Nothing in the database is touched before those checks pass.
 */
export async function startNode(opts: StartNodeOptions): Promise<NodeHandle> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const inst = loadInstance(opts.instanceRef);
  refuseSecondProcess(inst);
  const listen = parseListen(opts.listen ?? inst.config.listen);
  const services = opts.services ?? coreServices;
  // openInstanceStorage makes the checks; nothing below runs unless they passed
  const storage = await openInstanceStorage(inst);
  const state: NodeState = { draining: false };
  let app: FastifyInstance | undefined;
  try {
    const admin = await prepareDatabase(inst, storage, services, opts.allowRetiredNode);
    registerTaskHandlers(services, storage, inst.config.home, state);
    const logger = nodeLogger(inst.config.home);
    // no step of this node runs yet: work folders left by a node that died go (kept ones stay)
    const swept = sweepWorkFolders(inst.config.home);
    if (swept) logger.info({ swept }, 'removed work folders left by an earlier run');
    const executor = nodeExecutor(inst, storage, logger);
    // the drain switch an administrator sets for this node in the database (any node's portal or API)
    const drainSwitch = watchNodeDrain(storage.db, inst.config.nodeName, executor, inst.config.taskCap);
    state.drainSwitch = drainSwitch;
    await drainSwitch.check().catch(() => {});
    state.offlineNodes = watchOfflineNodes(storage.db, (err) =>
      logger.error({ err }, 'offline node cleanup'),
    );
    app = await services.buildServer({
      storage,
      key: inst.key,
      home: inst.config.home,
      nodeId: inst.config.nodeName,
      logger,
      isDraining: () => state.draining || drainSwitch.draining,
    });
    const url = await listenOn(app, listen);
    writeRunFiles(inst, url, admin, opts.initialAdminFile);
    await executor.start();
    printStarted(print, inst, storage, url, admin, opts.initialAdminFile);
    return nodeHandle({ inst, storage, executor, app, logger, url, state });
  } catch (err) {
    state.drainSwitch?.stop();
    state.offlineNodes?.stop();
    await abandonStart(inst, storage, app);
    throw err;
  }
}

/** One node process per home: a second `cuttle run` would share its pid and state files. */
function refuseSecondProcess(inst: Instance): void {
  const other = runningPid(inst.config.home);
  if (other && other !== process.pid) {
    throw new PreconditionError(`Instance "${inst.name}" already runs here (pid ${other}).`, {
      code: 'SERVICE_RUNNING',
      hints: ['Stop it first with `cuttle service --stop`, or check with `cuttle service --status`.'],
    });
  }
}

/** Registers the node (refusing a retired one), seeds, and creates the first administrator. */
async function prepareDatabase(
  inst: Instance,
  storage: Storage,
  services: CoreServices,
  allowRetired: boolean | undefined,
): Promise<InitialAdmin> {
  await registerNode(storage.db, {
    nodeId: inst.config.nodeName,
    taskCap: inst.config.taskCap,
    allowRetired,
    singleNode: { engine: storage.capabilities, instanceName: inst.name },
  });
  await services.ensureSeedData(storage.db);
  return services.ensureInitialAdmin(storage.db);
}

function registerTaskHandlers(
  services: CoreServices,
  storage: Storage,
  home: string,
  state: NodeState,
): void {
  services.registerCoreHandlers();
  registerBackupTasks({ storage, home, isStopping: () => state.draining });
}

function nodeLogger(home: string): Logger {
  return createServerLogger(
    process.env.CUTTLE_LOG_LEVEL ?? 'info',
    pino.destination({ dest: path.join(home, 'logs', 'server.log'), mkdir: true, sync: false }),
  );
}

function nodeExecutor(inst: Instance, storage: Storage, logger: Logger): TaskExecutor {
  return new TaskExecutor({
    storage,
    key: inst.key,
    home: inst.config.home,
    nodeId: inst.config.nodeName,
    keepWorkFolders: inst.config.keepWorkFolders,
    taskCap: inst.config.taskCap,
    nodeHeartbeat: true,
    onError: (err) => logger.error({ err }, 'task executor'),
  });
}

/** Listens and returns the URL the node answers on (the port the system picked for port 0). */
async function listenOn(app: FastifyInstance, listen: { host: string; port: number }): Promise<string> {
  await app.listen({ host: listen.host, port: listen.port }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EADDRINUSE' && e.code !== 'EADDRNOTAVAIL' && e.code !== 'EACCES') throw e;
    throw new PreconditionError(`Cannot listen on ${listen.host}:${listen.port}: ${e.code}.`, {
      code: 'LISTEN_FAILED',
      hints: [
        'Another program may use that port: pick another with `cuttle configure --listen URL` or `run --listen URL`.',
      ],
    });
  });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * The service command returns once the node's state file names a URL that answers, then takes
 * the first-start key file: that file is written first, in one rename, or the command could find
 * it missing or half written and the key (stored hashed) would be lost.
 */
function writeRunFiles(inst: Instance, url: string, admin: InitialAdmin, initialAdminFile?: string): void {
  const home = inst.config.home;
  if (admin && initialAdminFile) writeFileAtomic(initialAdminFile, JSON.stringify(admin), 0o600);
  writePidFile(home, process.pid);
  writeNodeState(home, {
    pid: process.pid,
    url,
    nodeName: inst.config.nodeName,
    instance: inst.name,
    startedAt: nowIso(),
  });
}

function printStarted(
  print: (line: string) => void,
  inst: Instance,
  storage: Storage,
  url: string,
  admin: InitialAdmin,
  initialAdminFile?: string,
): void {
  print(`Cuttle node "${inst.config.nodeName}" of instance "${inst.name}" is listening on ${url}`);
  print(`  database: ${storage.description}; up to ${inst.config.taskCap} tasks at once`);
  print(
    `  portal: ${url}/app (sign in with a password: \`cuttle admin --username NAME --password ...\` sets one)`,
  );
  if (admin && initialAdminFile) {
    print(
      `First start: created the administrator "${admin.username}"; its API key was handed to the service command.`,
    );
  } else if (admin) {
    print('');
    print(`First start: created the administrator "${admin.username}" with the API key`);
    // Written past the redacting printer on purpose: showing this key once is the point.
    process.stdout.write(`  ${admin.apiKey}\n`);
    print('Keep it now: it is stored hashed and cannot be shown again (`cuttle admin` resets it).');
  }
}

/** The running node: one shutdown however often it is asked for, `closed` once it is done. */
function nodeHandle(p: {
  inst: Instance;
  storage: Storage;
  executor: TaskExecutor;
  app: FastifyInstance;
  logger: Logger;
  url: string;
  state: NodeState;
}): NodeHandle {
  const { inst, storage, executor, app, logger, state } = p;
  const home = inst.config.home;
  const nodeId = inst.config.nodeName;
  let shuttingDown: Promise<void> | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  const shutdown = (o: { abortRunning?: boolean } = {}) => {
    // a second, forced request aborts what the first (draining) one waits for
    if (o.abortRunning) for (const id of executor.runningTaskIds) executor.abortTask(id, 'shutdown');
    shuttingDown ??= (async () => {
      state.draining = true;
      state.drainSwitch?.stop();
      state.offlineNodes?.stop();
      await executor.stop({ abortRunning: o.abortRunning });
      await app.close();
      logger.flush();
      await markNodeStopped(storage.db, nodeId).catch(() => {});
      await storage.close();
      removeRunFiles(home, process.pid);
      resolveClosed();
    })();
    return shuttingDown;
  };
  return {
    url: p.url,
    nodeId,
    instance: inst.name,
    home,
    storage,
    key: inst.key,
    executor,
    app,
    get draining() {
      return state.draining;
    },
    shutdown,
    closed,
  };
}

/** A start that failed part-way leaves no listener, no live node row, no run files. */
async function abandonStart(
  inst: Instance,
  storage: Storage,
  app: FastifyInstance | undefined,
): Promise<void> {
  await app?.close().catch(() => {});
  await markNodeStopped(storage.db, inst.config.nodeName).catch(() => {});
  await storage.close();
  removeRunFiles(inst.config.home, process.pid);
}
