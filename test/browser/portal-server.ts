import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

/**
 * A real Cuttle server for the browser tests: an instance of its own (registry, home, SQLite or
 * the given connection string), an administrator and a deployer with passwords, started with
 * `cuttle run` on a free loopback port (or with `cuttle service --start` for the move test, whose
 * move stops and restarts the service).
 */
export interface PortalServer {
  url: string;
  name: string;
  home: string;
  env: Record<string, string>;
  adminPassword: string;
  deployerPassword: string;
  cli(args: string[]): ReturnType<typeof runCli>;
  stop(): Promise<void>;
}

export const ADMIN = 'admin';
export const DEPLOYER = 'deployer';

export async function startPortalServer(
  label: string,
  opts: { storage?: string; asService?: boolean; taskCap?: number; port?: number } = {},
): Promise<PortalServer> {
  const dir = tempDir(`portal-${label}`);
  const env = {
    CUTTLE_REGISTRY: path.join(dir, 'instances.json'),
    CUTTLE_SERVICE_MANAGER: 'background',
    CUTTLE_LOG_LEVEL: 'warn',
  };
  const name = `portal-${label}`;
  const home = path.join(dir, 'home');
  const cli = (args: string[]) => runCli([...args, '--instance', name], { env });
  const must = async (args: string[]) => {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(`cuttle ${args[0]} failed: ${r.all}`);
    return r;
  };
  const created = await runCli(
    [
      'create-instance',
      '--instance',
      name,
      '--home',
      home,
      ...(opts.storage ? ['--storage-connection-string', opts.storage] : []),
    ],
    { env },
  );
  if (created.code !== 0) throw new Error(`create-instance failed: ${created.all}`);
  await must([
    'configure',
    '--listen',
    `http://127.0.0.1:${opts.port ?? 0}`,
    '--node-name',
    `node-${label}`,
    ...(opts.taskCap ? ['--task-cap', String(opts.taskCap)] : []),
  ]);
  const adminPassword = `Adm1n-${label}-pw!`;
  const deployerPassword = `Depl0yer-${label}-pw!`;
  await must(['admin', '--username', ADMIN, '--password', adminPassword]);
  await must([
    'user',
    'create',
    '--username',
    DEPLOYER,
    '--role',
    'deployer',
    '--password',
    deployerPassword,
  ]);

  let child: ChildProcess | undefined;
  let url: string;
  if (opts.asService) {
    await must(['service', '--start']);
    url = serviceUrl(home);
  } else {
    child = spawn(process.execPath, [...CLI_ARGS, 'run', '--instance', name], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.stderr!.on('data', (d) => (out += d));
      child!.on('exit', (code) => reject(new Error(`cuttle run exited ${code}: ${out}`)));
    });
  }
  return {
    url,
    name,
    home,
    env,
    adminPassword,
    deployerPassword,
    cli,
    async stop() {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (opts.asService) await cli(['service', '--stop', '--force', '--timeout', '30']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port free at this moment (a service that restarts must come back on the same one). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The URL the running service wrote to its node state file. */
export function serviceUrl(home: string): string {
  const state = JSON.parse(fs.readFileSync(path.join(home, 'run', 'node-state.json'), 'utf8')) as {
    url: string;
  };
  return state.url;
}
