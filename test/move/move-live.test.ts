import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { configureInstance } from '../../src/admin/configure.js';
import { createInstance } from '../../src/admin/create-instance.js';
import { loadInstance } from '../../src/admin/instance-context.js';
import { moveDatabase } from '../../src/admin/move/move-database.js';
import { loadJournal } from '../../src/admin/move/move-journal.js';
import { sameDatabase } from '../../src/config/connection-string.js';
import { type ProgressUpdate, silentProgress } from '../../src/lib/progress.js';
import { api, deployScript, taskState } from '../e2e/service-helpers.js';
import { CLI_ARGS } from '../helpers/cli.js';
import { ENGINES, tempDir, testDatabase } from '../helpers/engines.js';
import { waitFor } from '../helpers/wait-for.js';
import { isolateRegistry, withStorage } from './move-fixtures.js';

isolateRegistry('move-live');

/** `cuttle run` in a child process; resolves with its URL (and the first-start API key, if printed). */
/** Starts `cuttle run`; `firstStart` waits for the administrator's key too (stdout and stderr race). */
function cuttleRun(
  name: string,
  firstStart = false,
): Promise<{ child: ChildProcess; url: string; apiKey?: string; out: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, 'run', '--instance', name], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`cuttle run did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const url = /is listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /\s(API-[A-Z0-9]+)\s/i.exec(out)?.[1];
      if (url && /database: .*tasks at once/.test(out) && (!firstStart || key)) {
        clearTimeout(timer);
        resolve({ child, url, apiKey: key, out: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`cuttle run exited with ${code}:\n${out}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

describe('database move with a live server (SQLite -> PostgreSQL)', {
  skip: !ENGINES.includes('postgres'),
}, () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const c of cleanup) await c().catch(() => {});
  });

  it('a running deployment finishes before the copy; `cuttle run` serves the moved instance', async () => {
    const home = tempDir('mvlive-home');
    const name = `mvlive-${process.pid}`;
    await createInstance({ name, home, connectionString: `sqlite:${path.join(home, 'cuttle.db')}` });
    await configureInstance(loadInstance({ instance: name }), { listen: 'http://127.0.0.1:0' });
    const target = testDatabase('postgres', 'mvlive');
    cleanup.push(() => target.drop());

    const first = await cuttleRun(name, true);
    children.push(first.child);
    const apiKey = first.apiKey!;
    assert.match(apiKey, /^API-/);

    // An old deployment (finished) and one that is still running when the move starts.
    const oldTask = await deployScript(first.url, apiKey, 'echo old-deploy-line', 'old');
    await waitFor(
      'the old deployment',
      async () => (await taskState(first.url, apiKey, oldTask)) === 'Success',
    );
    // It runs until the move's drain has counted it (the go file), however long the move takes to get there.
    const go = path.join(home, 'go');
    const longTask = await deployScript(
      first.url,
      apiKey,
      `echo long-start; while [ ! -f ${go} ]; do sleep 0.1; done; echo long-done`,
      'long',
    );
    await waitFor(
      'the long deployment to run',
      async () => (await taskState(first.url, apiKey, longTask)) === 'Executing',
    );

    // the move stops the node and, once cut over, has it started again: here `cuttle run` again
    let second: Awaited<ReturnType<typeof cuttleRun>> | undefined;
    const moved = await moveDatabase(
      loadInstance({ instance: name }),
      { to: target.connectionString, yes: true, drainTimeout: 120 },
      {
        ...silentProgress,
        update: (u: ProgressUpdate) => {
          if (u.step === 'drain' && u.total) fs.writeFileSync(go, '');
        },
      },
      {
        startService: async () => {
          second = await cuttleRun(name);
          children.push(second.child);
          return `cuttle run started again at ${second.url}`;
        },
      },
    );
    await exited(first.child);
    assert.match(moved.service ?? '', /started again/);
    assert.ok(moved.journalFile);
    const journal = loadJournal(moved.journalFile!);
    assert.equal(journal.phase, 'done');
    assert.equal(journal.service.wasRunning, true, 'the move stopped the running node');
    assert.equal(journal.service.restarted, true, 'and started it again');
    assert.ok(sameDatabase(loadInstance({ instance: name }).target, target.target));

    // The running deployment finished (drain) before the copy, and is complete in the copy.
    await withStorage(target.target, async (s) => {
      const t = await s.db
        .selectFrom('server_tasks')
        .selectAll()
        .where('id', '=', longTask)
        .executeTakeFirstOrThrow();
      assert.equal(t.state, 'Success');
      // It was still running when maintenance went on, and is finished in the copy.
      assert.ok(
        t.completed_time! > journal.maintenance.onAt!,
        `${t.completed_time} > ${journal.maintenance.onAt}`,
      );
      const chunks = await s.db
        .selectFrom('task_log_chunks')
        .select('text')
        .where('task_id', '=', longTask)
        .execute();
      const text = chunks.map((x) => x.text).join('\n');
      assert.match(text, /long-start[\s\S]*long-done/);
    });

    // `cuttle run` against the new database serves: old log and events there, a new deployment succeeds.
    const node = second as Awaited<ReturnType<typeof cuttleRun>> | undefined;
    if (!node) throw new Error('the move did not start the service again');
    assert.match(node.out(), /postgres/i, 'the node runs on PostgreSQL');
    const c2 = api(node.url, apiKey);
    const raw = await fetch(`${node.url}/api/tasks/${oldTask}/raw`, {
      headers: { 'X-Octopus-ApiKey': apiKey },
    });
    assert.equal(raw.status, 200);
    assert.match(await raw.text(), /old-deploy-line/);
    const events = await c2.get<{ Items: { Category: string }[] }>(
      `/api/events?regarding=${oldTask}&take=50`,
    );
    assert.ok(
      events.Items.some((e) => e.Category === 'DeploymentSucceeded'),
      JSON.stringify(events.Items),
    );
    const maintenance = await c2.get<{ IsInMaintenanceMode: boolean }>('/api/maintenanceconfiguration');
    assert.equal(maintenance.IsInMaintenanceMode, false);
    const newTask = await deployScript(node.url, apiKey, 'echo after-move-line', 'new');
    await waitFor('the new deployment', async () => {
      const s = await taskState(node.url, apiKey, newTask);
      if (s === 'Failed') throw new Error('the new deployment failed');
      return s === 'Success';
    });
    node.child.kill('SIGTERM');
    await exited(node.child);
  });
});
