import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { csrfMatches, type PortalSession, resolveSession, sessionIdOf } from '../../core/session-service.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { ForbiddenError } from '../../lib/errors.js';
import { VersionedCache } from '../../lib/versioned-cache.js';
import type { Database } from '../../storage/schema/database-types.js';
import type { TableChanges } from '../../storage/table-changes.js';
import { WRITE_METHODS } from '../maintenance-gate.js';
import { READ_CACHE_TTL_MS } from '../read-caches.js';
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from './cookies.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The portal session the request came with (undefined for API-key requests). */
    portalSession?: PortalSession;
  }
}

/**
 * Resolves the session cookie (a resolved session is reused like an API key's actor, until
 * sessions or users are written through this node, and for at most READ_CACHE_TTL_MS) and
 * enforces CSRF: a state-changing request must carry the session's token in X-Octopus-Csrf-Token.
 * API-key requests need no CSRF token: a browser never adds that header by itself.
 */
export function sessionAuthenticator(
  db: Kysely<Database>,
  changes: TableChanges,
  clock: Clock = systemClock,
) {
  const cache = new VersionedCache<PortalSession>({
    version: () => changes.version('portal_sessions', 'users'),
    ttlMs: READ_CACHE_TTL_MS,
    maxEntries: 1_000,
    clock,
  });
  return {
    hasSession: (req: FastifyRequest) => readCookie(req, SESSION_COOKIE) !== undefined,
    async authenticate(req: FastifyRequest): Promise<PortalSession> {
      const token = readCookie(req, SESSION_COOKIE) ?? '';
      const session = await cache.get(sessionIdOf(token), () => resolveSession(db, token));
      if (WRITE_METHODS.has(req.method)) {
        const header = req.headers[CSRF_HEADER];
        if (!csrfMatches(session, Array.isArray(header) ? header[0] : header)) {
          throw new ForbiddenError(
            'The request has no valid CSRF token: reload the portal and try again (X-Octopus-Csrf-Token must match the Octopus-Csrf-Token cookie).',
            { code: 'CSRF_TOKEN_INVALID' },
          );
        }
      }
      req.portalSession = session;
      return session;
    },
  };
}
