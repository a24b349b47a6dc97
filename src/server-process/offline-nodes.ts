import type { Kysely } from 'kysely';
import { removeOfflineNodes } from '../core/node-service.js';
import type { Database } from '../storage/schema/database-types.js';

/** How often a node looks for nodes to take off the list: cheap, and no hurry (the limit is an hour). */
const CHECK_MS = 60_000;

/** Every node removes long-offline nodes from the list (core/node-service.ts says when and why). */
export function watchOfflineNodes(db: Kysely<Database>, onError: (err: unknown) => void): { stop(): void } {
  const check = () => removeOfflineNodes(db).catch(onError);
  void check();
  const timer = setInterval(check, CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
