import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { registerCoreHandlers } from '../core/register-core-handlers.js';
import { ensureSeedData } from '../core/seed-service.js';
import { ensureInitialAdmin } from '../core/user-service.js';
import type { MasterKey } from '../crypto/master-key.js';
import { buildServer } from '../server/build-server.js';
import type { Database } from '../storage/schema/database-types.js';
import type { Storage } from '../storage/storage.js';

/** What a node needs from core/ and server/, in one place so tests can replace it. */
export interface CoreServices {
  ensureSeedData(db: Kysely<Database>): Promise<unknown>;
  ensureInitialAdmin(db: Kysely<Database>): Promise<{ username: string; apiKey: string } | undefined>;
  /** Task handlers and the task-transition event listener (core/register-core-handlers.ts). */
  registerCoreHandlers(): void;
  buildServer(opts: {
    storage: Storage;
    key: MasterKey;
    home: string;
    nodeId: string;
    logger?: FastifyBaseLogger;
    isDraining: () => boolean;
  }): Promise<FastifyInstance>;
}

export const coreServices: CoreServices = {
  ensureSeedData,
  ensureInitialAdmin,
  registerCoreHandlers,
  buildServer: (opts) => buildServer(opts) as unknown as Promise<FastifyInstance>,
};
