import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { liveNodes } from '../../src/admin/home/running-service.js';
import {
  type ConnectionTarget,
  formatTarget,
  parseConnectionString,
} from '../../src/config/connection-string.js';
import { runningPid } from '../../src/server-process/run-files.js';
import { openStorage } from '../../src/storage/storage.js';
import { api, createServiceInstance, type ServiceInstance } from '../e2e/service-helpers.js';
import { bashSteps } from '../helpers/bash-step.js';
import { runCli } from '../helpers/cli.js';
import { ENGINES, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The two end-to-end halves of issue 6 that the database-level test (replicate-move-server) does
 * not cover: real nodes in child processes, deploying, then moved to another home and registry, or
 * copied as a replica that runs beside the original.
 */

const PASSPHRASE = 'correct horse battery staple';
const SECRET = 'Mov3dS3cretValue_42';
const SECRET_SHA = createHash('sha256').update(SECRET).digest('hex');
const MASK = '********';

/** Echoes a marker line, the secret (masked in the log) and a sha256 of the secret (not masked). */
const SCRIPT = [
  'echo "marker-line #{Octopus.Release.Number}"',
  'echo "pw=#{DbPassword}"',
  `printf '%s' "#{DbPassword}" | sha256sum | cut -c1-64 | sed 's/^/sha=/'`,
].join('\n');

type Items = { Items: Record<string, unknown>[] };

interface Started {
  pid: number;
  url: string;
  initialAdmin?: { apiKey: string };
}

/** Temp folders made by the tests themselves, removed in after(). */
const scratch: string[] = [];
function scratchDir(label: string): string {
  const d = tempDir(label);
  scratch.push(d);
  return d;
}

function passFile(): string {
  const f = path.join(scratchDir('pass'), 'pass.txt');
  fs.writeFileSync(f, `${PASSPHRASE}\n`, { mode: 0o600 });
  return f;
}

async function cliOk(args: string[], env: Record<string, string>) {
  const r = await runCli(args, { env });
  assert.equal(r.code, 0, `cuttle ${args.join(' ')}: ${r.all}`);
  return r;
}

async function startService(instance: string, env: Record<string, string>): Promise<Started> {
  const r = await cliOk(['service', '--start', '--format', 'json', '--instance', instance], env);
  return JSON.parse(r.stdout) as Started;
}

/** A project with one Bash step using the sensitive variable DbPassword, and an environment. */
async function setupProject(url: string, apiKey: string, tag: string) {
  const c = api(url, apiKey);
  const groups = await c.get<Items>('/api/Spaces-1/projectgroups');
  const lifecycles = await c.get<Items>('/api/Spaces-1/lifecycles');
  const envName = `Env-${tag}`;
  await c.post('/api/Spaces-1/environments', { Name: envName });
  const project = await c.post<{ Id: string; Name: string }>('/api/Spaces-1/projects', {
    Name: `Project-${tag}`,
    ProjectGroupId: groups.Items[0]!.Id,
    LifecycleId: lifecycles.Items[0]!.Id,
  });
  const vars = await c.get<Record<string, unknown>>(`/api/Spaces-1/projects/${project.Id}/variables`);
  await c.put(`/api/Spaces-1/projects/${project.Id}/variables`, {
    ...vars,
    Variables: [{ Name: 'DbPassword', Value: SECRET, IsSensitive: true, Type: 'Sensitive' }],
  });
  const processPath = `/api/Spaces-1/projects/${project.Id}/deploymentprocesses`;
  const proc = await c.get<Record<string, unknown>>(processPath);
  await c.put(processPath, {
    ...proc,
    Steps: bashSteps(SCRIPT),
  });
  return { project: project.Name, env: envName };
}

/** A new release of the project, deployed; returns the task id. */
async function deploy(url: string, apiKey: string, p: { project: string; env: string }): Promise<string> {
  const c = api(url, apiKey);
  const release = await c.post<{ ReleaseVersion: string }>('/api/Spaces-1/releases/create/v1', {
    spaceIdOrName: 'Spaces-1',
    ProjectName: p.project,
  });
  const deployed = await c.post<{ DeploymentServerTasks: { ServerTaskId: string }[] }>(
    '/api/Spaces-1/deployments/create/untenanted/v1',
    {
      spaceIdOrName: 'Spaces-1',
      ProjectName: p.project,
      ReleaseVersion: release.ReleaseVersion,
      EnvironmentNames: [p.env],
    },
  );
  return deployed.DeploymentServerTasks[0]!.ServerTaskId;
}

/** Waits for the task to complete and returns its raw log; fails unless it succeeded. */
async function completed(url: string, apiKey: string, taskId: string, timeoutMs = 30_000): Promise<string> {
  const c = api(url, apiKey);
  let state = '';
  const t = await waitFor(
    () => `task ${taskId} to complete (it is ${state})`,
    async () => {
      const t = await c.get<{ State: string; IsCompleted: boolean }>(`/api/tasks/${taskId}`);
      state = t.State;
      return t.IsCompleted ? t : undefined;
    },
    timeoutMs,
  );
  const raw = await rawLog(url, apiKey, taskId);
  assert.equal(t.State, 'Success', raw);
  return raw;
}

async function rawLog(url: string, apiKey: string, taskId: string): Promise<string> {
  const r = await fetch(`${url}/api/Spaces-1/tasks/${taskId}/raw`, {
    headers: { 'X-Octopus-ApiKey': apiKey },
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text;
}

/** The secret reached the script (its hash is in the log) and the log never shows it. */
function assertSecretUsedAndMasked(raw: string) {
  assert.ok(raw.includes('marker-line'), raw);
  assert.ok(raw.includes(`sha=${SECRET_SHA}`), `the sensitive value reached the script:\n${raw}`);
  assert.ok(!raw.includes(SECRET), 'the secret is masked');
  assert.ok(raw.includes(`pw=${MASK}`), raw);
}

/** Stops a node only if it still runs (each CLI start costs seconds), then removes its files. */
async function stopAndRemove(instance: string, home: string, env: Record<string, string>, dir: string) {
  if (runningPid(home)) {
    await runCli(['service', '--stop', '--force', '--timeout', '30', '--instance', instance], { env });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** createServiceInstance's cleanup, without a CLI run when the node is already stopped. */
async function removeServiceInstance(inst: ServiceInstance) {
  await stopAndRemove(inst.name, inst.home, inst.env, path.dirname(inst.home));
  const t = inst.db.target;
  if (t.engine === 'sqlite') fs.rmSync(path.dirname(t.file), { recursive: true, force: true });
  else await inst.db.drop();
}

function instanceTarget(home: string): ConnectionTarget {
  const cfg = JSON.parse(fs.readFileSync(path.join(home, 'cuttle.config.json'), 'utf8')) as {
    storage: { connectionString: string };
  };
  return parseConnectionString(cfg.storage.connectionString, home);
}

// The two cases share nothing (own registries, homes, databases, ports): they run side by side.
describe('move-server and replica with real nodes', { concurrency: 2 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  it('sqlite: move-server round trip between two homes and two registries', async () => {
    const a: ServiceInstance = await createServiceInstance('sqlite', 'mvlivea');
    cleanup.push(() => removeServiceInstance(a));
    const aStart = await startService(a.name, a.env);
    const apiKey = aStart.initialAdmin!.apiKey;
    const proj = await setupProject(aStart.url, apiKey, 'move');
    const oldTask = await deploy(aStart.url, apiKey, proj);
    assertSecretUsedAndMasked(await completed(aStart.url, apiKey, oldTask));
    await cliOk(['service', '--stop', '--instance', a.name, '--timeout', '30'], a.env);

    const pass = passFile();
    const archive = path.join(scratchDir('mvlive-archive'), 'cuttle-files.tar.gz');
    await cliOk(
      [
        'backup',
        'create',
        '--no-database',
        '--passphrase-file',
        pass,
        '--output',
        archive,
        '--instance',
        a.name,
      ],
      a.env,
    );

    const bDir = tempDir('mvliveb');
    const bEnv = { CUTTLE_REGISTRY: path.join(bDir, 'instances.json'), CUTTLE_SERVICE_MANAGER: 'background' };
    const bHome = path.join(bDir, 'home');
    const aDb = instanceTarget(a.home);
    await cliOk(
      [
        'backup',
        'restore',
        archive,
        '--no-database',
        '--instance',
        'moved',
        '--home',
        bHome,
        '--storage-connection-string',
        formatTarget(aDb),
        '--passphrase-file',
        pass,
      ],
      bEnv,
    );
    cleanup.push(() => stopAndRemove('moved', bHome, bEnv, bDir));
    // Same host name as A: the new node needs a name of its own (step 6 of move-server.md).
    await cliOk(
      ['configure', '--node-name', 'moved-node', '--listen', 'http://127.0.0.1:0', '--instance', 'moved'],
      bEnv,
    );
    await cliOk(['retire-node', '--node', a.nodeName, '--instance', 'moved'], bEnv);

    const b = await startService('moved', bEnv);
    assert.equal(b.initialAdmin, undefined, 'the database already has its administrator');
    // The old deployment's log is in the database and served by B, secret masked.
    assertSecretUsedAndMasked(await rawLog(b.url, apiKey, oldTask));
    // A new deployment on B: the restored key opens the sensitive value.
    const newTask = await deploy(b.url, apiKey, proj);
    assertSecretUsedAndMasked(await completed(b.url, apiKey, newTask));

    // The old instance refuses to start against the database.
    const old = await runCli(['run', '--instance', a.name], { env: a.env });
    assert.equal(old.code, 2, old.all);
    assert.match(old.stderr, new RegExp(`node "${a.nodeName}" is retired`));

    const storage = await openStorage(aDb);
    try {
      assert.deepEqual(
        (await liveNodes(storage.db)).map((n) => n.name),
        ['moved-node'],
        'exactly one live node',
      );
    } finally {
      await storage.close();
    }
    await cliOk(['service', '--stop', '--instance', 'moved', '--timeout', '30'], bEnv);
  });

  const engine = ENGINES.includes('postgres') ? 'postgres' : 'sqlite';
  it(`${engine}: a replica runs beside the original, on its own port, database and key`, async () => {
    const orig = await createServiceInstance(engine, 'rpllive');
    cleanup.push(() => removeServiceInstance(orig));
    const o = await startService(orig.name, orig.env);
    const apiKey = o.initialAdmin!.apiKey;
    const proj = await setupProject(o.url, apiKey, 'replica');
    assertSecretUsedAndMasked(await completed(o.url, apiKey, await deploy(o.url, apiKey, proj)));

    const pass = passFile();
    const archive = path.join(scratchDir('rpllive-archive'), 'prod.tar.gz');
    await cliOk(
      ['backup', 'create', '--passphrase-file', pass, '--output', archive, '--instance', orig.name],
      orig.env,
    );

    const rDir = tempDir('rplliver');
    const rEnv = { CUTTLE_REGISTRY: path.join(rDir, 'instances.json'), CUTTLE_SERVICE_MANAGER: 'background' };
    const replicaDb = testDatabase(engine, 'rplliverep');
    cleanup.push(async () => {
      await stopAndRemove('replica', path.join(rDir, 'home'), rEnv, rDir);
      const t = replicaDb.target;
      if (t.engine === 'sqlite') fs.rmSync(path.dirname(t.file), { recursive: true, force: true });
      else await replicaDb.drop();
    });
    await cliOk(
      [
        'replicate',
        '--from-backup',
        archive,
        '--instance',
        'replica',
        '--home',
        path.join(rDir, 'home'),
        '--storage-connection-string',
        replicaDb.connectionString,
        '--passphrase-file',
        pass,
        '--new-master-key',
        '--listen',
        'http://127.0.0.1:0',
      ],
      rEnv,
    );
    const r = await startService('replica', rEnv);
    assert.notEqual(r.url, o.url);

    const [oRoot, rRoot] = await Promise.all([
      api(o.url, apiKey).get<{ InstallationId: string }>('/api'),
      api(r.url, apiKey).get<{ InstallationId: string }>('/api'),
    ]);
    assert.ok(oRoot.InstallationId && rRoot.InstallationId);
    assert.notEqual(rRoot.InstallationId, oRoot.InstallationId, 'installation ids differ');
    const [oStatus, rStatus] = await Promise.all([
      api(o.url, apiKey).get<{ IsPotentialClone: boolean }>('/api/serverstatus'),
      api(r.url, apiKey).get<{ IsPotentialClone: boolean }>('/api/serverstatus'),
    ]);
    assert.equal(oStatus.IsPotentialClone, false);
    assert.equal(rStatus.IsPotentialClone, true);

    // Both deploy at the same time; the replica's own key opens its re-encrypted secret.
    const [rTask, oTask] = await Promise.all([deploy(r.url, apiKey, proj), deploy(o.url, apiKey, proj)]);
    const [rRaw, oRaw] = await Promise.all([
      completed(r.url, apiKey, rTask),
      completed(o.url, apiKey, oTask),
    ]);
    assertSecretUsedAndMasked(rRaw);
    assertSecretUsedAndMasked(oRaw);
    assert.equal((await api(o.url, apiKey).get<{ State: string }>(`/api/tasks/${oTask}`)).State, 'Success');
    await Promise.all([
      cliOk(['service', '--stop', '--instance', 'replica', '--timeout', '30'], rEnv),
      cliOk(['service', '--stop', '--instance', orig.name, '--timeout', '30'], orig.env),
    ]);
  });
});
