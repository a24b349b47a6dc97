import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../../src/server/build-server.js';
import { openStorage } from '../../src/storage/storage.js';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

const CLIENTS = 50;

for (const engine of ENGINES) {
  describe(`${engine}: releases created concurrently without a version`, () => {
    let fx: ApiFixture;
    before(async () => {
      fx = await startApi(engine, `relconc-${engine}`);
      await seedProject(fx, 'Concurrent');
    });
    after(async () => {
      await fx?.close();
    });

    it(`${CLIENTS} at once: every one created, with ${CLIENTS} distinct generated versions`, async () => {
      const answers = await Promise.all(
        Array.from({ length: CLIENTS }, () =>
          call(fx, 'POST', '/api/Spaces-1/releases/create/v1', { ProjectName: 'Concurrent' }),
        ),
      );
      for (const a of answers) {
        assert.ok(a.status === 200 || a.status === 201, `${a.status} ${a.text}`);
        assert.doesNotMatch(a.text, /undefined/);
      }
      const versions = answers.map((a) => a.body.ReleaseVersion as string);
      assert.equal(new Set(versions).size, CLIENTS, `distinct: ${versions.join(' ')}`);
      const expected = Array.from({ length: CLIENTS }, (_, i) => `0.0.${i + 1}`);
      assert.deepEqual(
        [...versions].sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2])),
        expected,
      );
    });

    it(`two nodes (each its own server and pool, no memory shared), ${CLIENTS} clients split between them: no conflict`, async () => {
      const storage = await openStorage(fx.storage.target);
      const app = await buildServer({
        storage,
        key: fx.key,
        home: fx.home,
        nodeId: 'test-node-2',
        isDraining: () => false,
      });
      try {
        const second: ApiFixture = { ...fx, app, storage };
        const before = await call(fx, 'GET', '/api/Spaces-1/releases?take=1000');
        const answers = await Promise.all(
          Array.from({ length: CLIENTS }, (_, i) =>
            call(i % 2 ? second : fx, 'POST', '/api/Spaces-1/releases/create/v1', {
              ProjectName: 'Concurrent',
            }),
          ),
        );
        for (const a of answers) {
          assert.ok(a.status === 200 || a.status === 201, `${a.status} ${a.text}`);
          assert.doesNotMatch(a.text, /undefined/);
        }
        const versions = answers.map((a) => a.body.ReleaseVersion as string);
        assert.equal(new Set(versions).size, CLIENTS, `distinct: ${versions.join(' ')}`);
        const after = await call(second, 'GET', '/api/Spaces-1/releases?take=1000');
        assert.equal(after.body.TotalResults, before.body.TotalResults + CLIENTS);
      } finally {
        await app.close();
        await storage.close();
      }
    });
  });
}
