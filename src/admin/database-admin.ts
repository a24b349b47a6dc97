import { type ConnectionTarget, describeTarget } from '../config/connection-string.js';
import type { MasterKey } from '../crypto/master-key.js';
import { PreconditionError } from '../lib/errors.js';
import { LATEST_SCHEMA_VERSION, migrateToLatest, schemaStatus, schemaTooNew } from '../storage/migrator.js';
import { getMeta, getMetaJson, META } from '../storage/repositories/metadata-repository.js';
import { dialectFactory, openStorage } from '../storage/storage.js';
import type { FenceMarker } from './instance-context.js';
import { checkCanary } from './master-key-canary.js';

export interface DatabaseReport {
  storage: string;
  engine: string;
  serverVersion: string;
  user: string;
  schema: { state: string; version: number; latest: number };
  canary: 'ok' | 'missing' | 'wrong-key' | 'corrupt' | 'not-checked';
  privileges: { ok: boolean; missing: string[]; fix: string[] };
  instanceId?: string;
  fence?: FenceMarker;
  sizeBytes?: number;
  ok: boolean;
}

/** `cuttle database check`: everything an admin needs to know before trusting a database. */
export async function checkDatabase(
  target: ConnectionTarget,
  key: MasterKey | undefined,
): Promise<DatabaseReport> {
  const storage = await openStorage(target);
  try {
    const status = await schemaStatus(storage);
    const privileges = await storage.dialect.checkPrivileges(storage.db);
    const hasSchema = status.state === 'current' || status.state === 'older' || status.state === 'newer';
    const canary = !hasSchema || !key ? 'not-checked' : await checkCanary(storage.db, key);
    const canaryState = typeof canary === 'string' ? canary : canary.ok ? 'ok' : canary.reason;
    const instanceId = hasSchema ? await getMeta(storage.db, META.instanceId) : undefined;
    const fence = hasSchema ? await getMetaJson<FenceMarker>(storage.db, META.fence) : undefined;
    const ok =
      privileges.missing.length === 0 &&
      (status.state === 'current' || status.state === 'empty') &&
      (canaryState === 'ok' || canaryState === 'not-checked') &&
      !fence;
    return {
      storage: describeTarget(target),
      engine: storage.dialect.label,
      serverVersion: storage.dialect.serverVersion,
      user: await storage.dialect.currentUser(storage.db),
      schema: { state: status.state, version: status.version, latest: status.latest },
      canary: canaryState,
      privileges: { ok: privileges.missing.length === 0, missing: privileges.missing, fix: privileges.fix },
      instanceId,
      fence,
      sizeBytes: await storage.dialect.databaseSize(storage.db),
      ok,
    };
  } finally {
    await storage.close();
  }
}

/** `cuttle database create`: the database (if missing) and the schema; idempotent. */
export async function createDatabase(
  target: ConnectionTarget,
): Promise<{ created: boolean; from: number; to: number }> {
  const created = await dialectFactory(target.engine)
    .createDatabase(target)
    .catch(async (err) => {
      // Creating needs rights the app user may lack; the database may exist already anyway.
      const { classifyConnectionError } = await import('../storage/connection-errors.js');
      throw classifyConnectionError(err, target);
    });
  const storage = await openStorage(target);
  try {
    await requirePrivileges(storage);
    const r = await migrateToLatest(storage);
    return { created, ...r };
  } finally {
    await storage.close();
  }
}

/** `cuttle database upgrade`. */
export async function upgradeDatabase(
  target: ConnectionTarget,
  key: MasterKey,
): Promise<{ from: number; to: number }> {
  const storage = await openStorage(target);
  try {
    const status = await schemaStatus(storage);
    if (status.state === 'newer') throw schemaTooNew(status, storage.description);
    if (status.state === 'empty') {
      throw new PreconditionError(
        `The database at ${storage.description} is empty; there is nothing to upgrade.`,
        { code: 'DATABASE_EMPTY', hints: ['`cuttle database create` creates the schema.'] },
      );
    }
    const canary = await checkCanary(storage.db, key);
    if (!canary.ok && canary.reason !== 'missing') {
      throw new PreconditionError(
        `The master key does not open the canary of ${storage.description} (${canary.reason}).`,
        { code: 'MASTER_KEY_WRONG' },
      );
    }
    await requirePrivileges(storage);
    return await migrateToLatest(storage);
  } finally {
    await storage.close();
  }
}

/** Refuses (exit 2, with the missing privileges and the grants that fix them) before any DDL runs. */
export async function requirePrivileges(storage: Awaited<ReturnType<typeof openStorage>>): Promise<void> {
  const p = await storage.dialect.checkPrivileges(storage.db);
  if (p.missing.length) {
    throw new PreconditionError(
      `The database user lacks privileges Cuttle needs on ${storage.description}.`,
      {
        code: 'DATABASE_PRIVILEGES_MISSING',
        details: p.missing,
        hints: [
          'A privileged user can fix it with:',
          ...p.fix.map((s) => `  ${s}`),
          'or run `cuttle database grant --user NAME`.',
        ],
      },
    );
  }
}

/** `cuttle database grant --user NAME`: run as a privileged login, grants what Cuttle needs to NAME. */
export async function grantDatabase(target: ConnectionTarget, user: string): Promise<string[]> {
  if (!/^[A-Za-z0-9_.@%-]{1,100}$/.test(user))
    throw new PreconditionError(`"${user}" is not a valid user name.`, { code: 'DATABASE_USER_INVALID' });
  const storage = await openStorage(target);
  try {
    const statements = storage.dialect.grantTo(user);
    const { sql } = await import('kysely');
    for (const s of statements) {
      if (s.startsWith('--')) continue;
      await sql.raw(s).execute(storage.db);
    }
    return statements.filter((s) => !s.startsWith('--'));
  } finally {
    await storage.close();
  }
}

export { LATEST_SCHEMA_VERSION };
