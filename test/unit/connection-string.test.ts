import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTarget, formatTarget, parseConnectionString } from '../../src/config/connection-string.js';
import { PreconditionError } from '../../src/lib/errors.js';

describe('connection strings', () => {
  it('parses URL forms of the three engines', () => {
    assert.deepEqual(parseConnectionString('sqlite:/var/lib/cuttle/c.db'), {
      engine: 'sqlite',
      file: '/var/lib/cuttle/c.db',
    });
    assert.deepEqual(parseConnectionString('/srv/x.db'), { engine: 'sqlite', file: '/srv/x.db' });
    const pg = parseConnectionString('postgres://u%40x:p%3Bw@db.example.com:6543/cut?sslmode=require');
    assert.deepEqual(pg, {
      engine: 'postgres',
      host: 'db.example.com',
      port: 6543,
      database: 'cut',
      user: 'u@x',
      password: 'p;w',
      params: { sslmode: 'require' },
    });
    const my = parseConnectionString('mysql://root@127.0.0.1/cuttle');
    assert.equal(my.engine, 'mysql');
    assert.equal((my as { port: number }).port, 3306);
  });

  it('parses Npgsql/MySqlConnector keyword forms and SQLite Data Source', () => {
    const t = parseConnectionString(
      'Host=db;Port=5433;Database=cuttle;Username=app;Password=secret;Provider=PostgreSQL',
    );
    assert.deepEqual(t, {
      engine: 'postgres',
      host: 'db',
      port: 5433,
      database: 'cuttle',
      user: 'app',
      password: 'secret',
      params: {},
    });
    const m = parseConnectionString('Server=db,3307;Database=c;User ID=app;Pwd=p;Provider=MySQL');
    assert.equal(m.engine, 'mysql');
    assert.equal((m as { port: number }).port, 3307);
    assert.equal((m as { user: string }).user, 'app');
    assert.deepEqual(parseConnectionString('Data Source=/tmp/a.db'), { engine: 'sqlite', file: '/tmp/a.db' });
  });

  it('refuses SQL Server strings and shows the PostgreSQL equivalent', () => {
    for (const cs of [
      'Data Source=MyServer\\SQLEXPRESS;Initial Catalog=OctopusDeploy;Integrated Security=True',
      'Server=tcp:sql1,1433;Database=Octopus;Trusted_Connection=True',
    ]) {
      assert.throws(
        () => parseConnectionString(cs),
        (e: unknown) =>
          e instanceof PreconditionError &&
          /SQL Server/.test(e.message) &&
          e.hints.some((h) => /Provider=PostgreSQL/.test(h)) &&
          e.hints.some((h) => /SQLite, PostgreSQL and MySQL/.test(h)),
      );
    }
  });

  it('gives clear errors for malformed strings without echoing them', () => {
    const secret = 'hunter2-very-secret';
    for (const cs of [
      `postgres://u:${secret}@/`,
      `Host=h;Password=${secret}`,
      `Host=h;Database=d;Password=${secret};Provider=Oracle`,
      'ftp://x',
      'nonsense',
    ]) {
      assert.throws(
        () => parseConnectionString(cs),
        (e: unknown) =>
          e instanceof PreconditionError && !e.message.includes(secret) && !e.hints.join('').includes(secret),
      );
    }
  });

  it('never includes the password when describing a target', () => {
    const t = parseConnectionString('postgres://app:topsecret@h:5432/d');
    assert.equal(describeTarget(t), 'postgres://app:***@h:5432/d');
    assert.match(formatTarget(t), /topsecret/);
    assert.deepEqual(parseConnectionString(formatTarget(t)), t);
  });
});
