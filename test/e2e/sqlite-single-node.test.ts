import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openStorage } from '../../src/storage/storage.js';
import { registerNode } from '../../src/tasks/node-registry.js';
import { waitFor } from '../helpers/wait-for.js';
import { createServiceInstance, runNodeForeground, type ServiceInstance } from './service-helpers.js';

/** `cuttle run` until it exits or listens (then it is killed): its exit code and output. */
async function startNode(
  inst: ServiceInstance,
): Promise<{ code: number | null; listened: boolean; output: string }> {
  const node = runNodeForeground(inst);
  const { child } = node;
  let code: number | null | undefined;
  child.on('exit', (c) => (code = c));
  await waitFor('the node to exit or listen', () => code !== undefined || node.url() !== undefined);
  const listened = code === undefined;
  if (listened) {
    child.kill('SIGINT');
    await waitFor('the node to stop', () => code !== undefined);
  }
  return { code: code ?? null, listened, output: node.output() };
}

/** SQLite serves one node: a second one is refused, with the move that makes several possible. */
describe('a second node on a SQLite instance', () => {
  let inst: ServiceInstance | undefined;
  after(async () => {
    await inst?.cleanup();
  });

  it('is refused (ENGINE_SINGLE_NODE, exit 2) while the other node is alive, and starts once it is gone', async () => {
    inst = await createServiceInstance('sqlite', 'single');
    const target = { engine: 'sqlite' as const, file: path.join(inst.home, 'cuttle.db') };
    const storage = await openStorage(target);
    try {
      await registerNode(storage.db, { nodeId: 'node-elsewhere', taskCap: 2 });
    } finally {
      await storage.close();
    }
    const refused = await startNode(inst);
    assert.equal(refused.listened, false, refused.output);
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, /error\[ENGINE_SINGLE_NODE\]/);
    assert.match(
      refused.output,
      /Node "node-elsewhere" .* already runs on this SQLite database, which serves one node/,
    );
    assert.match(
      refused.output,
      new RegExp(`cuttle database move --instance ${inst.name} --to-file FILE --yes`),
    );

    // the other node stopped (its heartbeat went stale): this one starts
    const s2 = await openStorage(target);
    try {
      await s2.db
        .updateTable('server_nodes')
        .set({ last_seen: new Date(Date.now() - 3_600_000).toISOString() })
        .where('id', '=', 'node-elsewhere')
        .execute();
    } finally {
      await s2.close();
    }
    const started = await startNode(inst);
    assert.equal(started.listened, true, started.output);
  });
});
