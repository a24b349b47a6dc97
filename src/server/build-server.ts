import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyReply } from 'fastify';
import type { CliCommand } from '../admin/move/move-launcher.js';
import { ensureSeedData } from '../core/seed-service.js';
import { requireSpace } from '../core/space-service.js';
import type { MasterKey } from '../crypto/master-key.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { UsageError } from '../lib/errors.js';
import { CUTTLE_VERSION } from '../lib/version.js';
import { VersionedCache } from '../lib/versioned-cache.js';
import type { Storage } from '../storage/storage.js';
import { installAccessLog } from './access-log.js';
import { installAuth } from './auth-hook.js';
import { errorBody, installErrorHandler } from './error-handler.js';
import { MaintenanceCache } from './maintenance-gate.js';
import { installPortableInputCheck } from './portable-input.js';
import { portalRoutes } from './portal/static-files.js';
import { READ_CACHE_TTL_MS } from './read-caches.js';
import type { App, RouteDeps } from './route-deps.js';
import { backupRoutes } from './routes/backup-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { deployTemplateRoutes } from './routes/deploy-template-routes.js';
import { deploymentRoutes } from './routes/deployment-routes.js';
import { environmentRoutes } from './routes/environment-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { instanceAdminRoutes } from './routes/instance-admin-routes.js';
import { libraryRoutes } from './routes/library-routes.js';
import { moveRoutes } from './routes/move-routes.js';
import { nodeRoutes } from './routes/node-routes.js';
import { portalLiveRoutes } from './routes/portal-routes.js';
import { processRoutes } from './routes/process-routes.js';
import { projectRoutes } from './routes/project-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { rootRoutes } from './routes/root-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { spaceRoutes } from './routes/space-routes.js';
import { taskRoutes } from './routes/task-routes.js';
import { taskSearchRoutes } from './routes/task-search-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { API_KEY_SCHEMES } from './schemas/security-schemes.js';

export interface ServerOptions {
  storage: Storage;
  key: MasterKey;
  home: string;
  nodeId: string;
  /** A pino logger (see server-logger.ts); none means no request logging (tests). */
  logger?: FastifyBaseLogger;
  /** True while this node drains: the ping route answers 418 so load balancers move away. */
  isDraining?: () => boolean;
  /** What the read caches measure their lifetimes on; the real clock unless a test moves time. */
  clock?: Clock;
  /**
   * How to run this same `cuttle` in a child process (the database move); default: the command
   * line of this process (child-command.ts). A server embedded in another program says how.
   */
  cliCommand?: CliCommand;
}

const ROUTE_MODULES = [
  rootRoutes,
  spaceRoutes,
  userRoutes,
  libraryRoutes,
  environmentRoutes,
  projectRoutes,
  processRoutes,
  releaseRoutes,
  deploymentRoutes,
  taskRoutes,
  eventRoutes,
  backupRoutes,
  moveRoutes,
  sessionRoutes,
  dashboardRoutes,
  deployTemplateRoutes,
  taskSearchRoutes,
  nodeRoutes,
  instanceAdminRoutes,
  portalLiveRoutes,
  portalRoutes,
];

/**
 * The HTTP API in Octopus's shapes. Seeds the Default space on first start (idempotent); the
 * caller listens (`app.listen`) or injects (`app.inject`) and closes it.
 */
export async function buildServer(opts: ServerOptions): Promise<App> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    disableRequestLogging: true, // access-log.ts writes one line per request instead
    bodyLimit: 16 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
    // Errors Fastify raises before routing (a URL that is not valid UTF-8, a bad content type)
    // answer in Octopus's error shape with a code, like every other refusal.
    frameworkErrors: (error, _req, reply) => {
      const r = reply as unknown as FastifyReply;
      r.code(error.statusCode && error.statusCode < 500 ? error.statusCode : 400);
      r.send(errorBody(`The request cannot be read: ${error.message}`, [], 'REQUEST_INVALID'));
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  await ensureSeedData(opts.storage.db);
  const clock = opts.clock ?? systemClock;
  const deps: RouteDeps = {
    db: opts.storage.db,
    changes: opts.storage.changes,
    key: opts.key,
    home: opts.home,
    nodeId: opts.nodeId,
    maintenance: new MaintenanceCache(opts.storage.db, clock),
    isDraining: opts.isDraining ?? (() => false),
    clock,
    cliCommand: opts.cliCommand,
  };

  // Clients send `Content-Type: application/json` with an empty body on DELETE and cancel.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new UsageError('The request body is not valid JSON.', { code: 'REQUEST_INVALID' }), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Cuttle API (Octopus Deploy compatible)', version: CUTTLE_VERSION },
      components: { securitySchemes: API_KEY_SCHEMES },
      security: [{ ApiKey: [] }, { Bearer: [] }],
    },
  });
  installErrorHandler(app);
  installPortableInputCheck(app);
  if (opts.logger) installAccessLog(app);
  installAuth(app, deps.db, deps.changes, deps.maintenance, clock);
  // A space-scoped route on a space that does not exist is a 404, not an empty list. Every task
  // poll asks, so a space found is remembered like the other reads (read-caches.ts); a missing
  // space is not remembered.
  const spacesFound = new VersionedCache<unknown>({
    version: () => deps.changes.version('spaces'),
    ttlMs: READ_CACHE_TTL_MS,
    maxEntries: 1_000,
    clock,
  });
  app.addHook('preHandler', async (req) => {
    const spaceId = (req.params as { spaceId?: string } | undefined)?.spaceId;
    if (spaceId) await spacesFound.get(spaceId, () => requireSpace(deps.db, spaceId));
  });
  for (const routes of ROUTE_MODULES) routes(app, deps);
  app.get('/api/openapi.json', { config: { anonymous: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  await app.ready();
  return app;
}
