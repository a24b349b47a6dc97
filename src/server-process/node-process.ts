import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { registerBackupTasks } from '../admin/backup/backup-task-handler.js';
import { type InstanceRef, loadInstance, openInstanceStorage } from '../admin/instance-context.js';
import { writeFileAtomic } from '../config/atomic-file.js';
import type { MasterKey } from '../crypto/master-key.js';
import { nowIso } from '../lib/clock.js';
import { PreconditionError } from '../lib/errors.js';
import { createServerLogger } from '../server/server-logger.js';
import type { Storage } from '../storage/storage.js';
import { markNodeStopped, registerNode } from '../tasks/node-registry.js';
import { TaskExecutor } from '../tasks/task-executor.js';
import { type CoreServices, coreServices } from './core-bindings.js';
import { watchNodeDrain } from './node-drain.js';
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

/**
 * Starts one node of an instance: checks the database (reachable, schema current, right master
 * key, not fenced), refuses a retired node, seeds, listens, and starts the task executor.
 * Nothing in the database is touched before those checks pass.
 */
export async function startNode(opts: StartNodeOptions): Promise<NodeHandle> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const inst = loadInstance(opts.instanceRef);
  const home = inst.config.home;
  const other = runningPid(home);
  if (other && other !== process.pid) {
    throw new PreconditionError(`Instance "${inst.name}" already runs here (pid ${other}).`, {
      code: 'SERVICE_RUNNING',
      hints: ['Stop it first with `cuttle service --stop`, or check with `cuttle service --status`.'],
    });
  }
  const listen = parseListen(opts.listen ?? inst.config.listen);
  const services = opts.services ?? coreServices;
  const storage = await openInstanceStorage(inst);
  const nodeId = inst.config.nodeName;
  let draining = false;
  let app: FastifyInstance | undefined;
  try {
    await registerNode(storage.db, {
      nodeId,
      taskCap: inst.config.taskCap,
      allowRetired: opts.allowRetiredNode,
    });
    await services.ensureSeedData(storage.db);
    const admin = await services.ensureInitialAdmin(storage.db);
    services.registerCoreHandlers();
    registerBackupTasks({ storage, home, isStopping: () => draining });

    const logger = createServerLogger(
      process.env.CUTTLE_LOG_LEVEL ?? 'info',
      pino.destination({ dest: path.join(home, 'logs', 'server.log'), mkdir: true, sync: false }),
    );
    const executor = new TaskExecutor({
      storage,
      key: inst.key,
      home,
      nodeId,
      taskCap: inst.config.taskCap,
      nodeHeartbeat: true,
      onError: (err) => logger.error({ err }, 'task executor'),
    });
    const drainSwitch = watchNodeDrain(storage.db, nodeId, executor, inst.config.taskCap);
    await drainSwitch.check().catch(() => {});
    app = await services.buildServer({
      storage,
      key: inst.key,
      home,
      nodeId,
      logger,
      isDraining: () => draining || drainSwitch.draining,
    });
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
    const url = `http://${host}:${address.port}`;
    // The service command returns once the node's state file names a URL that answers, then takes
    // this file: written first, in one rename, or that command could find it missing or half
    // written and the key (stored hashed) would be lost.
    if (admin && opts.initialAdminFile) writeFileAtomic(opts.initialAdminFile, JSON.stringify(admin), 0o600);
    writePidFile(home, process.pid);
    writeNodeState(home, {
      pid: process.pid,
      url,
      nodeName: nodeId,
      instance: inst.name,
      startedAt: nowIso(),
    });
    await executor.start();

    print(`Cuttle node "${nodeId}" of instance "${inst.name}" is listening on ${url}`);
    print(`  database: ${storage.description}; up to ${inst.config.taskCap} tasks at once`);
    print(
      `  portal: ${url}/app (sign in with a password: \`cuttle admin --username NAME --password ...\` sets one)`,
    );
    if (admin && opts.initialAdminFile) {
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

    const server = app;
    let shuttingDown: Promise<void> | undefined;
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((r) => {
      resolveClosed = r;
    });
    const shutdown = (o: { abortRunning?: boolean } = {}) => {
      if (o.abortRunning) for (const id of executor.runningTaskIds) executor.abortTask(id, 'shutdown');
      shuttingDown ??= (async () => {
        draining = true;
        drainSwitch.stop();
        await executor.stop({ abortRunning: o.abortRunning });
        await server.close();
        logger.flush();
        await markNodeStopped(storage.db, nodeId).catch(() => {});
        await storage.close();
        removeRunFiles(home, process.pid);
        resolveClosed();
      })();
      return shuttingDown;
    };
    return {
      url,
      nodeId,
      instance: inst.name,
      home,
      storage,
      key: inst.key,
      executor,
      app: server,
      get draining() {
        return draining;
      },
      shutdown,
      closed,
    };
  } catch (err) {
    await app?.close().catch(() => {});
    await markNodeStopped(storage.db, nodeId).catch(() => {});
    await storage.close();
    removeRunFiles(home, process.pid);
    throw err;
  }
}
