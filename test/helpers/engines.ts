import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ConnectionTarget, type Engine, formatTarget } from '../../src/config/connection-string.js';
import { dialectFactory } from '../../src/storage/storage.js';

/**
 * The engine matrix: every storage test runs on each engine in CUTTLE_TEST_ENGINES
 * (default: all three). PostgreSQL and MariaDB are the machine's services on loopback.
 */
export const ENGINES: Engine[] = (process.env.CUTTLE_TEST_ENGINES ?? 'sqlite,postgres,mysql')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as Engine[];

export const PG_HOST = process.env.CUTTLE_TEST_PG_HOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.CUTTLE_TEST_PG_PORT ?? 5432);
export const MYSQL_HOST = process.env.CUTTLE_TEST_MYSQL_HOST ?? '127.0.0.1';
export const MYSQL_PORT = Number(process.env.CUTTLE_TEST_MYSQL_PORT ?? 3306);

export interface TestDatabase {
  engine: Engine;
  target: ConnectionTarget;
  connectionString: string;
  drop(): Promise<void>;
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cuttle-${label}-`));
}

/** A database name of its own for one test (dropped by `drop`). Nothing is created yet. */
export function testDatabase(
  engine: Engine,
  label: string,
  opts: { user?: string; password?: string } = {},
): TestDatabase {
  const name = `cuttle_t_${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  let target: ConnectionTarget;
  if (engine === 'sqlite') target = { engine, file: path.join(tempDir(label), `${name}.db`) };
  else if (engine === 'postgres') {
    target = {
      engine,
      host: PG_HOST,
      port: PG_PORT,
      database: name,
      user: opts.user ?? 'postgres',
      password: opts.password,
      params: {},
    };
  } else {
    target = {
      engine,
      host: MYSQL_HOST,
      port: MYSQL_PORT,
      database: name,
      user: opts.user ?? 'root',
      password: opts.password,
      params: {},
    };
  }
  return {
    engine,
    target,
    connectionString: formatTarget(target),
    drop: () =>
      dialectFactory(engine).dropDatabase(
        engine === 'sqlite'
          ? target
          : ({
              ...target,
              user: engine === 'postgres' ? 'postgres' : 'root',
              password: undefined,
            } as ConnectionTarget),
      ),
  };
}
