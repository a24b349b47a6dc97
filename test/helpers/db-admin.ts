import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { ConnectionTarget } from '../../src/config/connection-string.js';
import { openStorage } from '../../src/storage/storage.js';
import { MYSQL_HOST, MYSQL_PORT, PG_HOST, PG_PORT, type TestDatabase } from './engines.js';

/**
 * Privileged SQL for test set-up (users, roles, grants) as the machine's superusers: MariaDB root
 * without a password, PostgreSQL postgres with trust authentication on loopback.
 */
export async function mysqlAdmin(statements: string[]): Promise<void> {
  const c = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root' });
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

export async function pgAdmin(statements: string[], database = 'postgres'): Promise<void> {
  const c = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/** A password that is easy to search for in captured output. */
export function secretPassword(): string {
  return `S3cr3t-Pa55-${randomBytes(6).toString('hex')}`;
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A MariaDB user name of its own for one test: `cuttle_t_<label>_<rand>`. */
export function testUserName(label: string): string {
  return `cuttle_t_${label}_${randomSuffix()}`;
}

/** Creates the MariaDB user `name`@'%' with a password and grants; `drop` removes it. */
export async function createMysqlUser(
  name: string,
  password: string,
  grants: { database: string; privileges: string }[],
): Promise<{ drop: () => Promise<void> }> {
  await mysqlAdmin([
    `CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`,
    ...grants.map((g) => `GRANT ${g.privileges} ON \`${g.database}\`.* TO '${name}'@'%'`),
  ]);
  return { drop: () => mysqlAdmin([`DROP USER IF EXISTS '${name}'@'%'`]) };
}

/** Drops the test databases, and for SQLite also the temporary folder `testDatabase` made. */
export async function dropTestDatabases(dbs: TestDatabase[]): Promise<void> {
  for (const d of dbs) {
    await d.drop();
    if (d.target.engine === 'sqlite')
      fs.rmSync(path.dirname(d.target.file), { recursive: true, force: true });
  }
}

/**
 * Asserts that the database of `target` does not exist (a refused command dropped what it
 * created). A storage that opens after all is closed again first: on MariaDB an open connection
 * would make the test's own DROP DATABASE wait forever on its metadata lock.
 */
export async function assertDatabaseGone(target: ConnectionTarget, why: string): Promise<void> {
  const opened = await openStorage(target).then(
    (s) => s.close().then(() => undefined),
    (err: Error) => err,
  );
  assert.match(String(opened?.message), /does not exist/, why);
}
