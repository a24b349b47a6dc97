import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiFixture, call, seedProject, startApi } from '../helpers/api-server.js';
import { ENGINES } from '../helpers/engines.js';

/**
 * Values one engine stores and another refuses are refused on every engine, naming the field and
 * the limit, and nothing is written: otherwise the data is stranded (a move to PostgreSQL fails on
 * a NUL, one to MariaDB on a name longer than 255 characters).
 */
for (const engine of ENGINES) {
  describe(`${engine}: the portable domain at the API`, () => {
    let fx: ApiFixture;
    let projectId: string;
    before(async () => {
      fx = await startApi(engine, `portable-${engine}`);
      projectId = (await seedProject(fx, 'Portable')).projectId;
    });
    after(async () => {
      await fx?.close();
    });

    const environments = async () =>
      (await call(fx, 'GET', '/api/Spaces-1/environments?take=1000')).body.Items.map(
        (e: { Name: string }) => e.Name,
      );

    it('a NUL in a name, a variable value or a path is a 400 naming the field; nothing is written', async () => {
      const before = await environments();
      const nul = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'bad\u0000name' });
      assert.equal(nul.status, 400, nul.text);
      assert.equal(nul.body.Code, 'VALUE_NOT_PORTABLE');
      assert.match(nul.body.ErrorMessage, /body field Name holds a NUL character \(U\+0000\) at position 3/);
      const lone = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'bad\ud800' });
      assert.equal(lone.body.Code, 'VALUE_NOT_PORTABLE');
      assert.match(lone.body.ErrorMessage, /lone surrogate \(U\+D800\)/);
      const vars = await call(fx, 'GET', `/api/Spaces-1/projects/${projectId}/variables`);
      const put = await call(fx, 'PUT', `/api/Spaces-1/projects/${projectId}/variables`, {
        ...vars.body,
        Variables: [{ Name: 'Greeting', Value: 'a\u0000b' }],
      });
      assert.equal(put.status, 400, put.text);
      assert.match(put.body.ErrorMessage, /body field Variables\[0\]\.Value holds a NUL/);
      const path = await call(fx, 'DELETE', '/api/%00/projects/Projects-1');
      assert.equal(path.status, 400, path.text);
      assert.match(path.body.ErrorMessage, /path parameter spaceId holds a NUL/);
      assert.deepEqual(await environments(), before);
    });

    it('a name longer than 255 characters is a 400 naming the column and the limit, on every engine', async () => {
      const before = await environments();
      const long = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'x'.repeat(1 << 20) });
      assert.equal(long.status, 400, long.text.slice(0, 300));
      assert.equal(long.body.Code, 'VALUE_TOO_LONG');
      assert.match(
        long.body.ErrorMessage,
        /The name of environments is 1048576 characters long; at most 255 fit on every engine/,
      );
      const ok = await call(fx, 'POST', '/api/Spaces-1/environments', { Name: 'y'.repeat(255) });
      assert.equal(ok.status, 201, ok.text.slice(0, 300));
      assert.deepEqual(
        await environments(),
        [...before, 'y'.repeat(255)].sort(),
        'only the one that fits was written',
      );
    });

    it('paging values no engine holds are a 400: skip=1e309, take=Infinity', async () => {
      for (const q of ['skip=1e309', 'take=Infinity', 'take=2147483648', 'skip=-1']) {
        const r = await call(fx, 'GET', `/api/tasks?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.ok(['VALUE_OUT_OF_RANGE', 'REQUEST_INVALID'].includes(r.body.Code), `${q}: ${r.body.Code}`);
      }
    });
  });
}
