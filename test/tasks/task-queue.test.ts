import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nowIso } from '../../src/lib/clock.js';
import { onTaskStateChange, type TaskStateChange } from '../../src/tasks/handler-registry.js';
import { registerNode } from '../../src/tasks/node-registry.js';
import { claimTasks } from '../../src/tasks/task-claim.js';
import { cancelRequested, renewLeases, sweepExpiredLeases } from '../../src/tasks/task-lease.js';
import { enqueueTask, requestCancel } from '../../src/tasks/task-queue.js';
import { claimFence } from '../../src/tasks/task-runner.js';
import type { TaskRecord } from '../../src/tasks/task-types.js';
import { ENGINES } from '../helpers/engines.js';
import { openTestStorage, type TestStorage } from './task-test-helpers.js';

const input = (name: string, spaceId: string | null = null, priority = 0) => ({
  kind: 'Test',
  spaceId,
  name,
  description: `test ${name}`,
  arguments: { n: name },
  priority,
});

for (const engine of ENGINES) {
  describe(`${engine}: task queue`, () => {
    let t: TestStorage;
    before(async () => {
      t = await openTestStorage(engine, 'queue');
    });
    after(async () => {
      await t?.close();
    });

    const row = (id: string) =>
      t.storage.db.selectFrom('server_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const clear = () => t.storage.db.deleteFrom('server_tasks').execute();

    it('enqueues Queued tasks and claims them in priority and queue order', async () => {
      await clear();
      const a = await enqueueTask(t.storage.db, input('a'));
      const b = await enqueueTask(t.storage.db, input('b', null, 5));
      assert.match(a, /^ServerTasks-\d+$/);
      const r = await row(a);
      assert.equal(r.state, 'Queued');
      assert.equal(r.activity_json, '[]');
      assert.equal(JSON.parse(r.arguments_json).n, 'a');
      const first = await claimTasks(t.storage, { nodeId: 'n1', limit: 1, leaseMs: 60_000 });
      assert.deepEqual(
        first.map((x) => x.id),
        [b],
        'higher priority first',
      );
      const second = await claimTasks(t.storage, { nodeId: 'n1', limit: 5, leaseMs: 60_000 });
      assert.deepEqual(
        second.map((x) => x.id),
        [a],
      );
      assert.equal(second[0]!.attempts, 1);
      assert.deepEqual(second[0]!.arguments, { n: 'a' });
      const claimed = await row(a);
      assert.equal(claimed.state, 'Executing');
      assert.equal(claimed.node_id, 'n1');
      assert.ok(claimed.lease_until! > nowIso());
      assert.ok(claimed.start_time);
      assert.deepEqual(await claimTasks(t.storage, { nodeId: 'n1', limit: 5, leaseMs: 60_000 }), []);
    });

    it('two nodes claiming at once never get the same task', async () => {
      await clear();
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) ids.add(await enqueueTask(t.storage.db, input(`c${i}`)));
      const other = await t.another();
      // InnoDB may lock every row a locking read examines, so a round can come back short on
      // MySQL; what must hold everywhere is that no task is ever claimed twice.
      const got: string[] = [];
      for (let round = 0; round < 20 && got.length < 40; round++) {
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            claimTasks(i % 2 ? other : t.storage, { nodeId: `node${i % 2}`, limit: 5, leaseMs: 60_000 }),
          ),
        );
        got.push(...claims.flat().map((x) => x.id));
      }
      assert.equal(new Set(got).size, got.length, 'no task claimed twice');
      assert.deepEqual(new Set(got), ids);
    });

    it('does not claim tasks of a space whose task queue is stopped', async () => {
      await clear();
      await t.storage.db
        .insertInto('spaces')
        .values({
          id: 'Spaces-900',
          name: 'Stopped',
          name_normalized: 'stopped',
          slug: 'stopped',
          description: '',
          is_default: false,
          task_queue_stopped: true,
          json: '{}',
          change_number: 1,
        })
        .execute();
      const stopped = await enqueueTask(t.storage.db, input('s', 'Spaces-900'));
      const free = await enqueueTask(t.storage.db, input('f', null));
      const got = await claimTasks(t.storage, { nodeId: 'n1', limit: 5, leaseMs: 60_000 });
      assert.deepEqual(
        got.map((x) => x.id),
        [free],
      );
      assert.equal((await row(stopped)).state, 'Queued');
      await t.storage.db.deleteFrom('spaces').where('id', '=', 'Spaces-900').execute();
    });

    it('cancels a queued task at once and an executing one through Cancelling', async () => {
      await clear();
      const seen: TaskStateChange[] = [];
      const off = onTaskStateChange((c) => {
        seen.push(c);
      });
      try {
        const q = await enqueueTask(t.storage.db, input('q'));
        assert.equal(await requestCancel(t.storage.db, q), 'Canceled');
        const rq = await row(q);
        assert.equal(rq.state, 'Canceled');
        assert.ok(rq.completed_time);
        assert.deepEqual(
          seen.map((c) => [c.task.id, c.state]),
          [[q, 'Canceled']],
        );
        const e = await enqueueTask(t.storage.db, input('e'));
        await claimTasks(t.storage, { nodeId: 'n1', limit: 1, leaseMs: 60_000 });
        assert.equal(await requestCancel(t.storage.db, e), 'Cancelling');
        assert.equal((await row(e)).state, 'Cancelling');
        assert.deepEqual(await cancelRequested(t.storage.db, 'n1', [e]), [e]);
        assert.equal(await requestCancel(t.storage.db, q), 'Canceled', 'completed tasks stay as they are');
        await assert.rejects(requestCancel(t.storage.db, 'ServerTasks-999999'), /no server task/);
      } finally {
        off();
      }
    });

    const fenceOf = (task: TaskRecord, nodeId = 'n1') => claimFence({ storage: t.storage, nodeId }, task);
    const sweep = (opts: { maxAttempts: number; ownNodeId?: string }) =>
      sweepExpiredLeases(t.storage.db, { nowSql: t.storage.capabilities.nowTimestampSql, ...opts });

    it('renews leases only for claims that still hold their task, and never one that ran out', async () => {
      await clear();
      const a = await enqueueTask(t.storage.db, input('a'));
      const [claim] = await claimTasks(t.storage, { nodeId: 'n1', limit: 1, leaseMs: 5_000 });
      const before = (await row(a)).lease_until!;
      assert.deepEqual(await renewLeases(t.storage.db, [fenceOf(claim!)], 60_000), []);
      assert.ok((await row(a)).lease_until! > before);
      assert.deepEqual(await renewLeases(t.storage.db, [fenceOf(claim!, 'n2')], 60_000), [a], 'not n2s task');
      const stale = { ...fenceOf(claim!), epoch: claim!.attempts - 1 };
      assert.deepEqual(await renewLeases(t.storage.db, [stale], 60_000), [a], 'an earlier claim of it');
      await t.storage.db
        .updateTable('server_tasks')
        .set({ lease_until: new Date(Date.now() - 1_000).toISOString() })
        .where('id', '=', a)
        .execute();
      assert.deepEqual(await renewLeases(t.storage.db, [fenceOf(claim!)], 60_000), [a], 'ran out');
    });

    it('sweeps tasks whose lease ran out, whatever their node: requeue, then fail after max attempts', async () => {
      await clear();
      await registerNode(t.storage.db, { nodeId: 'alive', taskCap: 5 });
      const dead = await enqueueTask(t.storage.db, input('dead'));
      await claimTasks(t.storage, { nodeId: 'gone-node', limit: 1, leaseMs: -1_000 });
      const held = await enqueueTask(t.storage.db, input('held'));
      await claimTasks(t.storage, { nodeId: 'alive', limit: 1, leaseMs: 60_000 });
      const lapsed = await enqueueTask(t.storage.db, input('lapsed'));
      await claimTasks(t.storage, { nodeId: 'alive', limit: 1, leaseMs: -1_000 });

      const r1 = await sweep({ maxAttempts: 2 });
      assert.deepEqual(
        r1.requeued.sort(),
        [dead, lapsed].sort(),
        'a live node that could not renew loses it too',
      );
      assert.equal((await row(held)).state, 'Executing', 'a lease that has not run out keeps its task');
      const rq = await row(dead);
      assert.equal(rq.state, 'Queued');
      assert.equal(rq.node_id, null);

      await t.storage.db.deleteFrom('server_tasks').where('id', '=', lapsed).execute();
      await claimTasks(t.storage, { nodeId: 'gone-node', limit: 1, leaseMs: -1_000 });
      const r2 = await sweep({ maxAttempts: 2 });
      assert.deepEqual(r2.failed, [dead]);
      const rf = await row(dead);
      assert.equal(rf.state, 'Failed');
      assert.match(rf.error_message!, /stopped responding/);
      assert.ok(rf.completed_time);

      const own = await sweep({ ownNodeId: 'alive', maxAttempts: 5 });
      assert.deepEqual(own.requeued, [held], "a restarted node takes back its previous run's tasks");
    });

    it('a task whose dead node had entered a step is failed, not re-run, naming node and step in its log', async () => {
      await clear();
      const inStep = await enqueueTask(t.storage.db, input('in-step'));
      const skippedOnly = await enqueueTask(t.storage.db, input('skipped-only'));
      await claimTasks(t.storage, { nodeId: 'dead-node', limit: 2, leaseMs: -1_000 });
      const at = nowIso();
      const node = (Id: string, Name: string, ParentId: string | null, Status: string) => ({
        Id,
        Name,
        ParentId,
        Status,
        Started: at,
        Ended: Status === 'Running' ? null : at,
      });
      const tree = (id: string, actionStatus: string) =>
        JSON.stringify([
          node(id, 'Deploy', null, 'Running'),
          node(`${id}-step-1`, 'Step 1: Migrate', id, actionStatus === 'Skipped' ? 'Skipped' : 'Running'),
          node(`${id}-step-1-action-1`, 'Migrate', `${id}-step-1`, actionStatus),
        ]);
      await t.storage.db
        .updateTable('server_tasks')
        .set({ activity_json: tree(inStep, 'Running') })
        .where('id', '=', inStep)
        .execute();
      await t.storage.db
        .updateTable('server_tasks')
        .set({ activity_json: tree(skippedOnly, 'Skipped') })
        .where('id', '=', skippedOnly)
        .execute();

      const r = await sweep({ maxAttempts: 5 });
      assert.deepEqual(r.failed, [inStep]);
      assert.deepEqual(r.requeued, [skippedOnly], 'no script had started: run it again');
      const failed = await row(inStep);
      assert.equal(failed.state, 'Failed');
      assert.match(
        failed.error_message!,
        /Node dead-node stopped responding while this task was inside Step 1: Migrate/,
      );
      assert.match(failed.error_message!, /redeploy to retry/);
      const open = JSON.parse(failed.activity_json) as { Status: string; Ended: string | null }[];
      assert.ok(
        open.every((n) => n.Ended !== null && n.Status !== 'Running'),
        'no activity is left Running',
      );
      const log = await t.storage.db
        .selectFrom('task_log_chunks')
        .selectAll()
        .where('task_id', '=', inStep)
        .execute();
      assert.equal(log.length, 1);
      assert.equal(log[0]!.category, 'Error');
      assert.equal(log[0]!.activity_id, `${inStep}-step-1`);
      assert.match(log[0]!.text, /dead-node.*Step 1: Migrate.*redeploy to retry/);
    });

    it('a project that opted into retry on node failure gets its in-step task queued again, until its attempts are used', async () => {
      await clear();
      await t.storage.db.deleteFrom('projects').execute();
      const project = (id: string, json: string) => ({
        id,
        space_id: 'Spaces-1',
        name: id,
        name_normalized: id.toLowerCase(),
        slug: id.toLowerCase(),
        description: '',
        project_group_id: 'ProjectGroups-1',
        lifecycle_id: 'Lifecycles-1',
        is_disabled: false,
        json,
        change_number: 1,
      });
      await t.storage.db
        .insertInto('projects')
        .values([project('Projects-retry', '{"RetryOnNodeFailure":true}'), project('Projects-plain', '{}')])
        .execute();
      const deployment = (name: string, ProjectId: string) => ({ ...input(name), arguments: { ProjectId } });
      const retried = await enqueueTask(t.storage.db, deployment('retried', 'Projects-retry'));
      const plain = await enqueueTask(t.storage.db, deployment('plain', 'Projects-plain'));
      const inStep = (id: string) =>
        t.storage.db
          .updateTable('server_tasks')
          .set({
            activity_json: JSON.stringify([
              { Id: id, Name: 'Deploy', ParentId: null, Status: 'Running', Started: nowIso(), Ended: null },
              {
                Id: `${id}-s1`,
                Name: 'Step 1: Notify',
                ParentId: id,
                Status: 'Running',
                Started: nowIso(),
                Ended: null,
              },
              {
                Id: `${id}-a1`,
                Name: 'Notify',
                ParentId: `${id}-s1`,
                Status: 'Running',
                Started: nowIso(),
                Ended: null,
              },
            ]),
          })
          .where('id', '=', id)
          .execute();
      await claimTasks(t.storage, { nodeId: 'dead-node', limit: 2, leaseMs: -1_000 });
      await inStep(retried);
      await inStep(plain);
      const r = await sweep({ maxAttempts: 2 });
      assert.deepEqual(r.requeued, [retried], 'the opted-in project runs the step again');
      assert.deepEqual(r.failed, [plain], 'the other project still fails: redeploy to retry');
      const again = await row(retried);
      assert.equal(again.state, 'Queued');
      assert.equal(again.node_id, null);
      const log = await t.storage.db
        .selectFrom('task_log_chunks')
        .selectAll()
        .where('task_id', '=', retried)
        .execute();
      assert.equal(log.length, 1);
      assert.match(
        log[0]!.text,
        /dead-node.*Step 1: Notify.*retries on node failure.*queued again \(attempt 2 of 2\)/,
      );

      // the second attempt dies inside the step too: its attempts are used, so it is failed
      await claimTasks(t.storage, { nodeId: 'dead-node', limit: 1, leaseMs: -1_000 });
      await inStep(retried);
      const r2 = await sweep({ maxAttempts: 2 });
      assert.deepEqual(r2.failed, [retried]);
      assert.equal((await row(retried)).state, 'Failed');
      await t.storage.db.deleteFrom('projects').execute();
    });
  });
}
