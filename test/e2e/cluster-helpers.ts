import fs from 'node:fs';
import path from 'node:path';
import { type ConnectionTarget, formatTarget } from '../../src/config/connection-string.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { createServiceInstance, type ServiceInstance } from './service-helpers.js';

/**
 * Several nodes of one instance on one PostgreSQL database, each with its own registry and home
 * (as on separate machines), the same master key, and a short lease (CUTTLE_TASK_LEASE_MS) so
 * that a lease running out takes seconds. `ports[i]`, when given, is the port node i reaches the
 * database on (a TcpProxy's), instead of the server's own.
 */
export interface Cluster {
  nodes: ServiceInstance[];
  target: ConnectionTarget;
  /** A handle on the database of the test's own, as an observer. */
  observe(): Promise<Storage>;
  cleanup(): Promise<void>;
}

export async function createCluster(
  label: string,
  count: number,
  opts: { leaseMs: number; ports?: (number | undefined)[] },
): Promise<Cluster> {
  const first = await createServiceInstance('postgres', `${label}0`);
  first.env.CUTTLE_TASK_LEASE_MS = String(opts.leaseMs);
  const target = first.db.target;
  const nodes = [first];
  const observers: Storage[] = [];
  try {
    const key = await first.cli(['show-master-key', '--format', 'json']);
    if (key.code !== 0) throw new Error(`show-master-key failed: ${key.all}`);
    const keyFile = path.join(tempDir(`${label}-key`), 'master.key');
    fs.writeFileSync(keyFile, (JSON.parse(key.stdout) as { MasterKey: string }).MasterKey, { mode: 0o600 });
    const nodeTarget = (i: number) => {
      const port = opts.ports?.[i];
      return port && target.engine !== 'sqlite' ? formatTarget({ ...target, port }) : formatTarget(target);
    };
    if (opts.ports?.[0]) {
      const r = await first.cli(['configure', '--storage-connection-string', nodeTarget(0)]);
      if (r.code !== 0) throw new Error(`configure failed: ${r.all}`);
    }
    for (let i = 1; i < count; i++)
      nodes.push(await joinNode(label, i, nodeTarget(i), keyFile, opts.leaseMs, first.db));
  } catch (err) {
    for (const n of nodes) await n.cleanup().catch(() => {});
    throw err;
  }
  return {
    nodes,
    target,
    async observe() {
      const s = await openStorage(target);
      observers.push(s);
      return s;
    },
    async cleanup() {
      for (const s of observers) await s.close().catch(() => {});
      // the first node's cleanup drops the database: the others stop first
      for (const n of nodes.slice(1)) await n.cleanup().catch(() => {});
      await first.cleanup();
    },
  };
}

/** Node i: an instance of its own on the same database, joined with the cluster's master key. */
async function joinNode(
  label: string,
  i: number,
  connectionString: string,
  keyFile: string,
  leaseMs: number,
  db: ServiceInstance['db'],
): Promise<ServiceInstance> {
  const dir = tempDir(`${label}${i}`);
  const env = {
    CUTTLE_REGISTRY: path.join(dir, 'instances.json'),
    CUTTLE_SERVICE_MANAGER: 'background',
    CUTTLE_TASK_LEASE_MS: String(leaseMs),
  };
  const name = 'svc-postgres';
  const nodeName = `node-${label}${i}`;
  const home = path.join(dir, 'home');
  const cli = (args: string[]) => runCli([...args, '--instance', name], { env });
  const joined = await runCli(
    [
      'create-instance',
      '--instance',
      name,
      '--home',
      home,
      '--storage-connection-string',
      connectionString,
      '--master-key-file',
      keyFile,
    ],
    { env },
  );
  if (joined.code !== 0) throw new Error(`create-instance (join) failed: ${joined.all}`);
  const conf = await cli(['configure', '--listen', 'http://127.0.0.1:0', '--node-name', nodeName]);
  if (conf.code !== 0) throw new Error(`configure failed: ${conf.all}`);
  return {
    name,
    home,
    nodeName,
    env,
    // the database is the first node's: it drops it
    db: { ...db, drop: async () => {} },
    cli,
    async cleanup() {
      await cli(['service', '--stop', '--force', '--timeout', '30']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
