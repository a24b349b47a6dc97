import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../../src/config/connection-string.js';
import { bashSteps } from '../helpers/bash-step.js';
import { CLI_ARGS, runCli } from '../helpers/cli.js';
import { type TestDatabase, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';

/** One instance for a service test: its own registry, home and database, listening on a free port. */
export interface ServiceInstance {
  name: string;
  home: string;
  nodeName: string;
  env: Record<string, string>;
  db: TestDatabase;
  cli(args: string[]): ReturnType<typeof runCli>;
  cleanup(): Promise<void>;
}

export async function createServiceInstance(engine: Engine, label: string): Promise<ServiceInstance> {
  const dir = tempDir(label);
  const env = {
    CUTTLE_REGISTRY: path.join(dir, 'instances.json'),
    CUTTLE_SERVICE_MANAGER: 'background',
  };
  const name = `svc-${engine}`;
  const nodeName = `node-${label}-${engine}`;
  const home = path.join(dir, 'home');
  const db = testDatabase(engine, label);
  const cli = (args: string[]) => runCli([...args, '--instance', name], { env });
  const created = await runCli(
    [
      'create-instance',
      '--instance',
      name,
      '--home',
      home,
      ...(engine === 'sqlite' ? [] : ['--storage-connection-string', db.connectionString]),
    ],
    { env },
  );
  if (created.code !== 0) throw new Error(`create-instance failed: ${created.all}`);
  const conf = await cli(['configure', '--listen', 'http://127.0.0.1:0', '--node-name', nodeName]);
  if (conf.code !== 0) throw new Error(`configure failed: ${conf.all}`);
  return {
    name,
    home,
    nodeName,
    env,
    db,
    cli,
    async cleanup() {
      await cli(['service', '--stop', '--force', '--timeout', '30']);
      if (engine !== 'sqlite') await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small REST client with the administrator's API key, in Octopus's shapes. */
export function api(url: string, apiKey: string) {
  const call = async <T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { 'X-Octopus-ApiKey': apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  return {
    get: <T>(p: string) => call<T>('GET', p),
    post: <T>(p: string, b: unknown) => call<T>('POST', p, b),
    put: <T>(p: string, b: unknown) => call<T>('PUT', p, b),
  };
}

type Items = { Items: Record<string, unknown>[] };

/** Creates environment, project and a one-step Bash process, releases it and deploys it. Returns the task id. */
export async function deployScript(
  url: string,
  apiKey: string,
  script: string,
  tag: string,
): Promise<string> {
  const c = api(url, apiKey);
  const spaces = await c.get<Items>('/api/spaces?take=2147483647');
  const space = String(spaces.Items.find((s) => s.IsDefault)?.Id ?? spaces.Items[0]!.Id);
  const groups = await c.get<Items>(`/api/${space}/projectgroups`);
  const lifecycles = await c.get<Items>(`/api/${space}/lifecycles`);
  const envName = `Env-${tag}`;
  await c.post(`/api/${space}/environments`, { Name: envName });
  const project = await c.post<{ Id: string; Name: string }>(`/api/${space}/projects`, {
    Name: `Project-${tag}`,
    ProjectGroupId: groups.Items[0]!.Id,
    LifecycleId: lifecycles.Items[0]!.Id,
  });
  const processPath = `/api/${space}/projects/${project.Id}/deploymentprocesses`;
  const proc = await c.get<Record<string, unknown>>(processPath);
  await c.put(processPath, {
    ...proc,
    Steps: bashSteps(script),
  });
  const release = await c.post<{ ReleaseVersion: string }>(`/api/${space}/releases/create/v1`, {
    spaceIdOrName: space,
    ProjectName: project.Name,
  });
  const deployed = await c.post<{ DeploymentServerTasks: { ServerTaskId: string }[] }>(
    `/api/${space}/deployments/create/untenanted/v1`,
    {
      spaceIdOrName: space,
      ProjectName: project.Name,
      ReleaseVersion: release.ReleaseVersion,
      EnvironmentNames: [envName],
    },
  );
  return deployed.DeploymentServerTasks[0]!.ServerTaskId;
}

/** The task's log as `GET /api/tasks/{id}/raw` gives it (plain text). */
export async function taskLog(url: string, apiKey: string, taskId: string): Promise<string> {
  const r = await fetch(`${url}/api/tasks/${taskId}/raw`, { headers: { 'X-Octopus-ApiKey': apiKey } });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET /api/tasks/${taskId}/raw: ${r.status} ${text}`);
  return text;
}

/**
 * Resolves once a task's log holds more `tick` lines than now: the node has run the task and
 * flushed its log since this was called (a script that prints `tick` in a loop).
 */
export async function logGrows(url: string, apiKey: string, taskId: string): Promise<void> {
  const ticks = async () => (await taskLog(url, apiKey, taskId)).match(/tick\s*$/gm)?.length ?? 0;
  const now = await ticks();
  await waitFor(`task ${taskId}'s log to grow`, async () => (await ticks()) > now);
}

export async function taskState(url: string, apiKey: string, taskId: string): Promise<string> {
  const t = await api(url, apiKey).get<{ State: string }>(`/api/tasks/${taskId}`);
  return t.State;
}

/** Reads a task's state straight from the database (works while the server is stopped). */
export async function dbTaskState(inst: ServiceInstance, taskId: string): Promise<string | undefined> {
  const { openStorage } = await import('../../src/storage/storage.js');
  const target =
    inst.db.engine === 'sqlite'
      ? { engine: 'sqlite' as const, file: path.join(inst.home, 'cuttle.db') }
      : inst.db.target;
  const storage = await openStorage(target);
  try {
    const r = await storage.db
      .selectFrom('server_tasks')
      .select('state')
      .where('id', '=', taskId)
      .executeTakeFirst();
    return r?.state;
  } finally {
    await storage.close();
  }
}

/** `cuttle run` of the instance in the foreground, as `npm start` runs it: its output and URL as they come. */
export function runNodeForeground(inst: ServiceInstance) {
  const child = spawn(process.execPath, [...CLI_ARGS, 'run', '--instance', inst.name], {
    cwd: inst.home,
    env: { ...process.env, ...inst.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    url: () => /listening on (http:\/\/\S+)/.exec(output)?.[1],
    /** The first-start administrator's API key, once printed. */
    apiKey: () => /(API-[A-Z0-9]+)/.exec(output)?.[1],
  };
}
