import { type ConnectionTarget, describeTarget } from '../config/connection-string.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { CodeOfKind } from '../lib/error-codes.js';
import { PreconditionError } from '../lib/errors.js';
import { LATEST_SCHEMA_VERSION, migrateToLatest, schemaStatus, schemaTooNew } from '../storage/migrator.js';
import { getMeta, getMetaJson, META } from '../storage/repositories/metadata-repository.js';
import { dialectFactory, openStorage } from '../storage/storage.js';
import { type RestoreMarker, readRestoreMarker } from './backup/restore-marker.js';
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
  /** A restore that was killed or crashed before its last step: the data is incomplete. */
  unfinishedRestore?: RestoreMarker;
  /** The database is the target of a move that has not cut over yet. */
  unfinishedMove?: string;
  /** Why the database must not be used as it is, each with its code and the command that fixes it. */
  problems: DatabaseProblem[];
  ok: boolean;
}

export interface DatabaseProblem {
  code: CodeOfKind<'precondition'>;
  message: string;
  fix: string[];
}

/** The problems of a check; none means the database can be used by this Cuttle as it is. */
function problemsOf(r: Omit<DatabaseReport, 'problems' | 'ok'>): DatabaseProblem[] {
  const found: DatabaseProblem[] = [];
  const add = (code: DatabaseProblem['code'], message: string, ...fix: string[]) =>
    found.push({ code, message, fix });
  if (r.unfinishedRestore)
    add(
      'RESTORE_UNFINISHED',
      `An incomplete restore (of ${r.unfinishedRestore.archive}, started ${r.unfinishedRestore.started}) was never finished: rows are missing.`,
      `Complete it by running the restore again: cuttle backup restore ${r.unfinishedRestore.archive} --storage-connection-string "..." --overwrite`,
    );
  if (r.unfinishedMove)
    add(
      'DATABASE_MOVE_TARGET',
      `The database is the target of the unfinished move ${r.unfinishedMove}.`,
      'Finish it with `cuttle database move --resume` on the instance being moved.',
    );
  if (r.schema.state === 'older')
    add(
      'SCHEMA_OUTDATED',
      `The schema is at version ${r.schema.version}; this Cuttle needs ${r.schema.latest}.`,
      'Run `cuttle database upgrade` (take a backup first).',
    );
  if (r.schema.state === 'newer')
    add(
      'DATABASE_SCHEMA_NEWER',
      `The schema is at version ${r.schema.version}, newer than this Cuttle knows (${r.schema.latest}).`,
      'Upgrade Cuttle to the version that last upgraded this database.',
    );
  if (r.schema.state === 'foreign')
    add(
      'DATABASE_FOREIGN_TABLES',
      "The database holds tables that are not Cuttle's.",
      'Give Cuttle a database of its own.',
    );
  if (r.canary === 'wrong-key')
    add(
      'MASTER_KEY_WRONG',
      'The master key does not match the database.',
      'Give the right key with --master-key-file or CUTTLE_MASTER_KEY.',
    );
  if (r.canary === 'missing') add('CANARY_MISSING', 'The database has no master-key canary.');
  if (r.canary === 'corrupt') add('CANARY_DAMAGED', 'The master-key canary is damaged.');
  if (!r.privileges.ok)
    add(
      'DATABASE_PRIVILEGES_MISSING',
      `Privileges missing: ${r.privileges.missing.join('; ')}.`,
      ...r.privileges.fix,
    );
  if (r.fence)
    add(
      'DATABASE_FENCED',
      `The database was moved to ${r.fence.movedTo} on ${r.fence.moved} and is fenced.`,
      'Point the instance at the new database, or roll back with `cuttle database unfence`.',
    );
  return found;
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
    const report: Omit<DatabaseReport, 'problems' | 'ok'> = {
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
      unfinishedRestore: hasSchema ? await readRestoreMarker(storage.db) : undefined,
      unfinishedMove: (hasSchema ? await getMeta(storage.db, 'move-in-progress') : undefined) || undefined,
    };
    const problems = problemsOf(report);
    return { ...report, problems, ok: problems.length === 0 };
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
