import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { Kysely } from 'kysely';
import type { CliCommand } from '../admin/move/move-launcher.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { Clock } from '../lib/clock.js';
import type { Database } from '../storage/schema/database-types.js';
import type { TableChanges } from '../storage/table-changes.js';
import type { MaintenanceCache } from './maintenance-gate.js';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What every route module needs; routes stay thin and call one service each. */
export interface RouteDeps {
  db: Kysely<Database>;
  /** Versions of the tables written through `db`, for read caches (read-caches.ts). */
  changes: TableChanges;
  key: MasterKey;
  home: string;
  nodeId: string;
  maintenance: MaintenanceCache;
  isDraining: () => boolean;
  /** For read caches' lifetimes (read-caches.ts). */
  clock: Clock;
  /** How this server runs its own CLI (the database move process); default child-command.ts. */
  cliCommand?: CliCommand;
}
