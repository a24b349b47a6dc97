import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Actor } from '../core/actor.js';
import { authenticateApiKey } from '../core/user-service.js';
import type { Clock } from '../lib/clock.js';
import { MaintenanceModeError, UnauthorizedError } from '../lib/errors.js';
import { VersionedCache } from '../lib/versioned-cache.js';
import type { Database } from '../storage/schema/database-types.js';
import type { TableChanges } from '../storage/table-changes.js';
import { type MaintenanceCache, WRITE_METHODS } from './maintenance-gate.js';
import { sessionAuthenticator } from './portal/session-auth.js';
import { READ_CACHE_TTL_MS } from './read-caches.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** Answered without an API key or session (GET /api, the load balancer's ping, sign-in, the portal's files). */
    anonymous?: boolean;
  }
}

/** `X-Octopus-ApiKey: API-...`, or `Authorization: Bearer API-...` (what `accessToken` sends). */
function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers['x-octopus-apikey'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key?.trim()) return key.trim();
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m?.[1]?.trim() || undefined;
}

/**
 * Task polling sends the same key many times a second; resolving it costs two queries. A resolved
 * key is reused until `users` or `api_keys` is written through this node (a deleted key or a
 * demoted user takes effect on the next request) and for at most READ_CACHE_TTL_MS (the bound for
 * changes made elsewhere, such as `cuttle admin` or another node). Only successes are cached: a
 * wrong key is never "warm".
 */
const AUTH_CACHE_MAX = 1_000;

function actorCache(db: Kysely<Database>, changes: TableChanges, clock: Clock) {
  const cache = new VersionedCache<Actor>({
    version: () => changes.version('users', 'api_keys'),
    ttlMs: READ_CACHE_TTL_MS,
    clock,
    maxEntries: AUTH_CACHE_MAX,
  });
  return (key: string): Promise<Actor> => cache.get(key, () => authenticateApiKey(db, key));
}

/**
 * Authentication, then the maintenance gate, before any handler runs: while maintenance mode is
 * on, every read still works (task polling above all), administrators keep full rights, and any
 * other change is refused with 409 and an `{ErrorMessage}` body.
 */
export function installAuth(
  app: FastifyInstance,
  db: Kysely<Database>,
  changes: TableChanges,
  maintenance: MaintenanceCache,
  clock: Clock,
): void {
  const authenticate = actorCache(db, changes, clock);
  const sessions = sessionAuthenticator(db, changes, clock);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.anonymous) return;
    if (!req.routeOptions.url) return; // unknown route: let the 404 handler answer
    const key = presentedKey(req);
    if (key) req.actor = await authenticate(key);
    // The portal: a session cookie, with the CSRF header on every state-changing request.
    else if (sessions.hasSession(req)) req.actor = (await sessions.authenticate(req)).actor;
    else
      throw new UnauthorizedError(
        'You must be logged in: send an API key in the X-Octopus-ApiKey header, or sign in to the portal.',
        { code: 'UNAUTHORIZED' },
      );
    if (WRITE_METHODS.has(req.method) && req.actor.role !== 'administrator') {
      const state = await maintenance.get();
      if (state.IsInMaintenanceMode) throw new MaintenanceModeError();
    }
  });
}
