import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { backupsFolder } from '../../admin/backup/backup-task-handler.js';
import { checkDatabase } from '../../admin/database-admin.js';
import { loadInstance } from '../../admin/instance-context.js';
import { configPathFor } from '../../config/home-layout.js';
import { requireAdministrator } from '../../core/actor.js';
import { writeEvent } from '../../core/event-service.js';
import { confirmPassword } from '../../core/session-service.js';
import { PreconditionError } from '../../lib/errors.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, Int, NStr, responses, Str, StrList } from '../schemas/common-schemas.js';
import { archiveInFolder } from './backup-routes.js';

const DatabaseSchema = Type.Object({
  Storage: Str,
  Engine: Str,
  ServerVersion: Str,
  User: Str,
  SchemaState: Str,
  SchemaVersion: Int,
  LatestSchemaVersion: Int,
  MasterKeyCanary: Str,
  PrivilegesOk: Bool,
  MissingPrivileges: StrList,
  PrivilegeFix: StrList,
  SizeBytes: Type.Union([Int, Type.Null()]),
  InstanceId: NStr,
  /** Why the database must not be used as it is (an unfinished restore, a fence, ...), each with its fix. */
  Problems: Type.Array(Type.Object({ Code: Str, Message: Str, Fix: StrList })),
  Ok: Bool,
});

/** The instance this node serves, from the config in its home: what `cuttle database check` reads. */
function instanceOf(home: string) {
  const file = configPathFor(home);
  if (!fs.existsSync(file))
    throw new PreconditionError(
      `This server has no instance config in ${home}; use the CLI on its machine.`,
      {
        code: 'CONFIG_MISSING',
      },
    );
  return loadInstance({ config: file });
}

/**
 * Administrator doors onto the CLI's instance operations: `database check` (engine, version, size,
 * schema, privileges with the exact fix), `show-master-key` (only after the password is entered
 * again; failures count toward the sign-in lockout), and downloading a backup archive.
 */
export function instanceAdminRoutes(app: App, deps: RouteDeps): void {
  const admin = (what: string) => ({
    preHandler: async (req: FastifyRequest) => requireAdministrator(req.actor, what),
  });
  app.get(
    '/api/admin/database',
    {
      ...admin('see the database'),
      schema: {
        tags: ['Database'],
        summary: 'The instance database as `cuttle database check` reports it (administrators only)',
        response: responses(DatabaseSchema),
      },
    },
    async () => {
      const inst = instanceOf(deps.home);
      const r = await checkDatabase(inst.target, inst.key);
      return {
        Storage: r.storage,
        Engine: r.engine,
        ServerVersion: r.serverVersion,
        User: r.user,
        SchemaState: r.schema.state,
        SchemaVersion: r.schema.version,
        LatestSchemaVersion: r.schema.latest,
        MasterKeyCanary: r.canary,
        PrivilegesOk: r.privileges.ok,
        MissingPrivileges: r.privileges.missing,
        PrivilegeFix: r.privileges.fix,
        SizeBytes: r.sizeBytes ?? null,
        InstanceId: r.instanceId ?? null,
        Problems: r.problems.map((p) => ({ Code: p.code, Message: p.message, Fix: p.fix })),
        Ok: r.ok,
      };
    },
  );

  app.post(
    '/api/admin/masterkey/reveal',
    {
      ...admin('see the master key'),
      schema: {
        tags: ['Master key'],
        summary: "The master key, after the administrator's password is entered again (an audited event)",
        body: Type.Object({ Password: Type.String({ minLength: 1, maxLength: 1000 }) }),
        response: responses(Type.Object({ MasterKey: Str, KeyId: Str })),
      },
    },
    async (req, reply) => {
      await confirmPassword(deps.db, req.actor, req.body.Password);
      await writeEvent(deps.db, {
        category: 'MasterKeyShown',
        message: `The master key was shown to ${req.actor.username} in the portal.`,
        relatedDocumentIds: req.actor.userId ? [req.actor.userId] : [],
        userId: req.actor.userId,
        username: req.actor.username,
      });
      reply.header('cache-control', 'no-store');
      return { MasterKey: deps.key.toBase64(), KeyId: deps.key.id };
    },
  );

  app.get(
    '/api/admin/backups/download/:file',
    {
      ...admin('download backups'),
      schema: {
        tags: ['Backups'],
        summary: 'Download an archive of the backups folder (administrators only)',
        params: Type.Object({ file: Str }),
        response: responses(Type.Unknown()),
      },
    },
    async (req, reply) => {
      const file = archiveInFolder(backupsFolder(deps.home), req.params.file);
      const name = path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('content-length', fs.statSync(file).size)
        .send(fs.createReadStream(file));
    },
  );
}
