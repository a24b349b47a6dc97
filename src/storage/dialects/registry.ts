import type { Engine } from '../../config/connection-string.js';
import type { DialectFactory } from './dialect.js';
import { mysqlFactory } from './mysql/mysql-factory.js';
import { postgresFactory } from './postgres/postgres-factory.js';
import { sqliteFactory } from './sqlite/sqlite-factory.js';

/** One line per engine: a new engine is a folder `dialects/<engine>/` and its line here. */
const FACTORIES: Record<Engine, DialectFactory> = {
  sqlite: sqliteFactory,
  postgres: postgresFactory,
  mysql: mysqlFactory,
};

export const ENGINE_NAMES = Object.keys(FACTORIES) as Engine[];

export function dialectFactory(engine: Engine): DialectFactory {
  return FACTORIES[engine];
}
