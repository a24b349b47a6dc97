import type { Engine } from '../../src/config/connection-string.js';
import { SYSTEM_ACTOR } from '../../src/core/actor.js';
import { addApiKey, createUser, ensureInitialAdmin } from '../../src/core/user-service.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import type { Clock } from '../../src/lib/clock.js';
import { buildServer } from '../../src/server/build-server.js';
import type { App } from '../../src/server/route-deps.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { META, setMeta } from '../../src/storage/repositories/metadata-repository.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { bashSteps } from './bash-step.js';
import { type TestDatabase, tempDir, testDatabase } from './engines.js';
import { waitFor } from './wait-for.js';

/** A migrated database of its own, a server on it (inject only), an administrator and a deployer key. */
export interface ApiFixture {
  engine: Engine;
  app: App;
  storage: Storage;
  key: MasterKey;
  home: string;
  adminKey: string;
  deployerKey: string;
  draining: { value: boolean };
  close(): Promise<void>;
}

/** `clock`: what the server's read caches measure their lifetimes on (a ManualClock moves time). */
export async function startApi(
  engine: Engine,
  label: string,
  opts: { clock?: Clock } = {},
): Promise<ApiFixture> {
  const t: TestDatabase = testDatabase(engine, label);
  const storage = await openStorage(t.target, { create: true });
  await migrateToLatest(storage);
  await setMeta(storage.db, META.installationId, 'test-installation');
  const key = MasterKey.generate();
  const home = tempDir(label);
  const draining = { value: false };
  const app = await buildServer({
    storage,
    key,
    home,
    nodeId: 'test-node',
    isDraining: () => draining.value,
    clock: opts.clock,
  });
  const admin = await ensureInitialAdmin(storage.db);
  if (!admin) throw new Error('no initial admin');
  const deployer = await createUser(storage.db, SYSTEM_ACTOR, { username: 'deployer', role: 'deployer' });
  const { key: deployerKey } = await addApiKey(storage.db, SYSTEM_ACTOR, deployer.id, 'test');
  return {
    engine,
    app,
    storage,
    key,
    home,
    adminKey: admin.apiKey,
    deployerKey,
    draining,
    async close() {
      await app.close();
      await storage.close();
      await t.drop();
    },
  };
}

/** `app.inject` with the key header and JSON, returning status and parsed body. */
export async function call(
  fx: ApiFixture,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  apiKey: string | null = fx.adminKey,
) {
  const headers: Record<string, string> = {};
  if (apiKey !== null) headers['x-octopus-apikey'] = apiKey;
  const res = await fx.app.inject({
    method,
    url,
    headers,
    payload: body === undefined ? undefined : (body as object),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field in the tests.
  let json: any;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, text: res.body, headers: res.headers };
}

/** A project with a one-step Bash process, and an environment, in Spaces-1. */
export async function seedProject(
  fx: ApiFixture,
  name: string,
  script = 'echo "hello from #{Octopus.Environment.Name}"',
) {
  const groups = await call(fx, 'GET', '/api/Spaces-1/projectgroups?take=1');
  const lifecycles = await call(fx, 'GET', '/api/Spaces-1/lifecycles?take=1');
  const env = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: `${name}-env` });
  const project = await call(fx, 'POST', '/api/Spaces-1/projects', {
    Name: name,
    ProjectGroupId: groups.body.Items[0].Id,
    LifecycleId: lifecycles.body.Items[0].Id,
  });
  const process = await call(fx, 'GET', `/api/Spaces-1/projects/${project.body.Id}/deploymentprocesses`);
  const put = await call(fx, 'PUT', `/api/Spaces-1/projects/${project.body.Id}/deploymentprocesses`, {
    ...process.body,
    Steps: bashSteps(script, 'Greet'),
  });
  if (put.status !== 200) throw new Error(`process PUT failed: ${put.text}`);
  return {
    projectId: project.body.Id as string,
    environmentId: env.body.Id as string,
    envName: `${name}-env`,
  };
}

/** H2's executor on the fixture's database, with the core handlers registered. */
export async function startExecutor(
  fx: ApiFixture,
  opts: { keepWorkFolders?: boolean } = {},
): Promise<{ stop(): Promise<void> }> {
  const { registerCoreHandlers } = await import('../../src/core/register-core-handlers.js');
  const { TaskExecutor } = await import('../../src/tasks/task-executor.js');
  registerCoreHandlers();
  const executor = new TaskExecutor({
    storage: fx.storage,
    key: fx.key,
    home: fx.home,
    nodeId: 'test-node',
    taskCap: 4,
    pollMs: 200,
    keepWorkFolders: opts.keepWorkFolders,
  });
  await executor.start();
  return { stop: () => executor.stop({ abortRunning: true }) };
}

/** Polls a task until it is completed (the client's waiter does the same). */
export async function waitForTask(fx: ApiFixture, taskId: string, timeoutMs?: number) {
  let state: unknown;
  return waitFor(
    () => `task ${taskId} to complete (it is ${state})`,
    async () => {
      const r = await call(fx, 'GET', `/api/tasks/${taskId}`);
      state = r.body.State;
      return r.body.IsCompleted ? r.body : undefined;
    },
    timeoutMs,
  );
}

/**
 * Task-transition events are written by a listener just after the transition commits, so a
 * poller can see a task completed a moment before its event: wait for the event too.
 */
export async function waitForEvent(fx: ApiFixture, regarding: string, category: string, timeoutMs?: number) {
  return waitFor(
    `a ${category} event regarding ${regarding}`,
    async () => {
      const r = await call(fx, 'GET', `/api/events?regarding=${regarding}&take=100`);
      return r.body.Items.some((e: { Category: string }) => e.Category === category) ? r.body : undefined;
    },
    timeoutMs,
  );
}
