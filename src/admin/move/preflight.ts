import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../config/atomic-file.js';
import {
  type ConnectionTarget,
  describeTarget,
  formatTarget,
  isLoopbackHost,
  isServerTarget,
  sameDatabase,
} from '../../config/connection-string.js';
import { sealKeyBundle } from '../../crypto/key-bundle.js';
import { CuttleError } from '../../lib/errors.js';
import { type SchemaStatus, schemaStatus } from '../../storage/migrator.js';
import { TABLES } from '../../storage/schema/tables.js';
import { openStorage, type Storage } from '../../storage/storage.js';
import { countRows } from '../../storage/table-counts.js';
import type { Instance } from '../instance-context.js';
import { readTargetMarker } from './move-journal.js';
import { MOVE_STEPS, type MoveOptions, type MovePlan, type PreflightProblem } from './move-plan.js';
import { findNonPortableValues } from './portable-source.js';

export interface PreflightInput {
  inst: Instance;
  source: Storage;
  target: ConnectionTarget;
  options: MoveOptions;
  moveId: string;
  /** Set when resuming: the target may hold this move's marker. */
  resumeMoveId?: string;
}

export interface PreflightResult {
  plan: MovePlan;
  /** The target, open, when it was reachable (the caller closes it). */
  targetStorage?: Storage;
  targetWasEmpty: boolean;
}

const MIN_VERSIONS: Record<string, number[]> = {
  PostgreSQL: [12],
  MariaDB: [10, 6],
  MySQL: [8, 0],
};

function versionAtLeast(v: string, min: number[]): boolean {
  const parts = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i]!;
  }
  return true;
}

/** What the checks share: the input, the plan they fill in, and the target once it is open. */
interface Preflight {
  input: PreflightInput;
  plan: MovePlan;
  sourceStatus: SchemaStatus;
  targetStorage?: Storage;
  targetWasEmpty: boolean;
}

type Check = (p: Preflight) => Promise<void> | void;

/**
 * The checks in the order they run. Every check runs (one that needs the open target skips
 * itself when it could not be opened), so all problems are reported together, each with its fix.
 */
const CHECKS: Check[] = [
  targetIsNotTheSource,
  remoteTargetHasPassword,
  targetReachable,
  targetEngineVersion,
  targetPrivileges,
  targetEmpty,
  targetFreeSpace,
  sourceSchemaCurrent,
  sourceValuesPortable,
  masterKeySaved,
  countSourceRows,
];

/** Every check before anything changes; all problems are collected and reported together. */
export async function runPreflight(input: PreflightInput): Promise<PreflightResult> {
  const { inst, source } = input;
  const sourceStatus = await schemaStatus(source);
  const plan: MovePlan = {
    moveId: input.moveId,
    instance: inst.name,
    source: {
      description: source.description,
      engine: source.dialect.label,
      sizeBytes: await source.dialect.databaseSize(source.db).catch(() => undefined),
      schemaVersion: sourceStatus.version,
    },
    target: { description: describeTarget(input.target), exists: true },
    keyId: inst.key.id,
    resumeOf: input.resumeMoveId,
    tables: [],
    steps: [...MOVE_STEPS],
    warnings: [],
    problems: [],
  };
  const p: Preflight = { input, plan, sourceStatus, targetWasEmpty: false };
  for (const check of CHECKS) await check(p);
  return { plan, targetStorage: p.targetStorage, targetWasEmpty: p.targetWasEmpty };
}

function targetIsNotTheSource({ input, plan }: Preflight): void {
  if (sameDatabase(input.source.target, input.target)) {
    plan.problems.push({
      check: 'target',
      code: 'MOVE_SAME_DATABASE',
      message: `The target ${plan.target.description} is the database the instance uses now.`,
      fix: ['Give --to the connection string of the new, empty database.'],
    });
  }
}

function remoteTargetHasPassword({ input, plan }: Preflight): void {
  const { target } = input;
  if (isServerTarget(target) && !isLoopbackHost(target.host) && !target.password) {
    plan.warnings.push(
      `The connection string for ${target.host} has no password. Authentication without one (peer/ident, a socket, or a trust rule) usually only works for local connections; the service will reach this server over the network. Use the password form: ${formatTarget({ ...target, password: 'PASSWORD' })}`,
    );
  }
}

/** Opens the target (creating the database unless this is a dry run); later checks use it. */
async function targetReachable(p: Preflight): Promise<void> {
  if (p.plan.problems.length) return;
  try {
    p.targetStorage = await openTarget(p.input.target, !p.input.options.dryRun, p.plan);
  } catch (err) {
    p.plan.problems.push(fromError('target reachable', err));
    return;
  }
  if (!p.targetStorage) return;
  p.plan.target.engine = p.targetStorage.dialect.label;
  p.plan.target.user = await p.targetStorage.dialect.currentUser(p.targetStorage.db).catch(() => undefined);
}

function targetEngineVersion({ targetStorage, plan }: Preflight): void {
  if (!targetStorage) return;
  const d = targetStorage.dialect;
  const family = d.label.split(' ')[0]!;
  const min = MIN_VERSIONS[family];
  if (min && !versionAtLeast(d.serverVersion, min)) {
    plan.problems.push({
      check: 'engine version',
      code: 'DATABASE_SERVER_TOO_OLD',
      message: `${d.label} is too old: Cuttle needs ${family} ${min.join('.')} or newer (for SKIP LOCKED and the schema).`,
      fix: ['Upgrade the target server, or move to another one.'],
    });
  }
}

async function targetPrivileges({ targetStorage, plan }: Preflight): Promise<void> {
  if (!targetStorage) return;
  const priv = await targetStorage.dialect.checkPrivileges(targetStorage.db);
  if (!priv.missing.length) return;
  const user = plan.target.user?.split('@')[0] ?? 'USER';
  plan.problems.push({
    check: 'privileges',
    code: 'DATABASE_PRIVILEGES_MISSING',
    message: `User "${plan.target.user}" lacks privileges Cuttle needs on ${plan.target.description}: ${priv.missing.join('; ')}.`,
    fix: [
      `As a privileged user: cuttle database grant --user ${user} --storage-connection-string "<a privileged connection string for that database>"`,
      'or run this SQL:',
      ...priv.fix.map((s) => `  ${s}`),
    ],
  });
}

/** Empty, or (when resuming) holding only this move's work, recognised by its marker row. */
async function targetEmpty(p: Preflight): Promise<void> {
  const { targetStorage, plan, input } = p;
  if (!targetStorage) return;
  const status = await schemaStatus(targetStorage);
  p.targetWasEmpty = status.state === 'empty';
  if (status.state === 'empty') return;
  const marker =
    status.state === 'foreign' ? undefined : await readTargetMarker(targetStorage.db).catch(() => undefined);
  const ours = !!input.resumeMoveId && (marker === input.resumeMoveId || marker === undefined);
  if (ours) return;
  const description = plan.target.description;
  plan.problems.push({
    check: 'target empty',
    code: 'MOVE_TARGET_NOT_EMPTY',
    message: marker
      ? `The target ${description} holds the unfinished move ${marker}.`
      : `The target ${description} is not empty (${status.state === 'foreign' ? `tables: ${status.foreignTables.join(', ')}` : `a Cuttle schema, version ${status.version}`}).`,
    fix: marker
      ? ['Continue it with `cuttle database move --resume`, or drop and recreate the target database.']
      : ['Give the move an empty database (drop and recreate it, or choose another name).'],
  });
}

async function targetFreeSpace({ targetStorage, plan }: Preflight): Promise<void> {
  if (!targetStorage) return;
  const d = targetStorage.dialect;
  const free = await d.freeSpace(targetStorage.db).catch(() => undefined);
  plan.target.freeBytes = free;
  const need = plan.source.sizeBytes;
  if (free !== undefined && need !== undefined && free < need * 1.2) {
    plan.problems.push({
      check: 'free space',
      code: 'DISK_SPACE_LOW',
      message: `The target has ${(free / 1048576).toFixed(0)} MB free; the source uses ${(need / 1048576).toFixed(0)} MB (20% headroom needed).`,
      fix: ['Free space on the target, or move to a larger volume.'],
    });
  } else if (free === undefined) {
    plan.warnings.push(
      `${d.label} does not tell its free space; make sure the target has room for ${need ? `${(need / 1048576).toFixed(1)} MB` : 'the data'} or more.`,
    );
  }
}

function sourceSchemaCurrent({ sourceStatus, plan }: Preflight): void {
  if (sourceStatus.state === 'current') return;
  plan.problems.push({
    check: 'schema version',
    code: 'MOVE_SOURCE_SCHEMA_NOT_CURRENT',
    message: `The source schema is ${sourceStatus.state} (version ${sourceStatus.version}, this Cuttle ${sourceStatus.latest}).`,
    fix: ['Run `cuttle database upgrade` first (take a backup), then move.'],
  });
}

/** Old values the target could refuse mid-copy are named before anything is copied. */
async function sourceValuesPortable({ input, plan }: Preflight): Promise<void> {
  const found = await findNonPortableValues(input.source);
  if (!found.length) return;
  plan.problems.push({
    check: 'portable values',
    code: 'MOVE_SOURCE_NOT_PORTABLE',
    message: `The source holds ${found.length} value(s) that not every engine stores the same way: ${found
      .map((f) => `table ${f.table}, row ${f.row}, column ${f.column} ${f.problem}`)
      .join('; ')}.`,
    fix: ['Correct or remove those values (through the API, the portal or SQL), then run the move again.'],
  });
}

async function countSourceRows({ input, plan }: Preflight): Promise<void> {
  for (const t of TABLES) plan.tables.push({ name: t.name, rows: await countRows(input.source.db, t.name) });
}

async function openTarget(
  target: ConnectionTarget,
  create: boolean,
  plan: MovePlan,
): Promise<Storage | undefined> {
  try {
    return await openStorage(target);
  } catch (err) {
    const missing =
      err instanceof CuttleError && /does not exist/.test(err.message) && err.kind === 'precondition';
    if (!missing) throw err;
    plan.target.exists = false;
    if (!create) {
      plan.warnings.push(
        `The target database does not exist yet; the move will create it (its privileges are checked then).`,
      );
      return undefined;
    }
    return await openStorage(target, { create: true });
  }
}

/** Step 2 of the seed: the master key must be saved before the data leaves. */
async function masterKeySaved({ input, plan }: Preflight): Promise<void> {
  const { options, inst } = input;
  const { problems, warnings } = plan;
  if (options.keyBundleFile) {
    if (!options.passphraseFile) {
      problems.push({
        check: 'master key saved',
        code: 'KEY_BUNDLE_PASSPHRASE_MISSING',
        message: '--key-bundle needs --passphrase-file FILE (the passphrase that seals the key).',
        fix: ['Put a passphrase of 8 or more characters in a file readable only by you.'],
      });
      return;
    }
    let passphrase: string;
    try {
      passphrase = fs.readFileSync(options.passphraseFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      problems.push({
        check: 'master key saved',
        code: 'PASSPHRASE_FILE_UNREADABLE',
        message: `The passphrase file ${options.passphraseFile} cannot be read.`,
        fix: [],
      });
      return;
    }
    if (options.dryRun) {
      warnings.push(`The key bundle will be written to ${options.keyBundleFile}.`);
      return;
    }
    try {
      const bundle = await sealKeyBundle(inst.key, passphrase);
      writeFileAtomic(path.resolve(options.keyBundleFile), `${JSON.stringify(bundle, null, 2)}\n`, 0o600);
    } catch (err) {
      problems.push(fromError('master key saved', err));
    }
    return;
  }
  if (options.yes || input.resumeMoveId) return;
  const msg = `Save the master key (id ${inst.key.id}) before moving: without it the new database's sensitive values cannot be read.`;
  const fix = [
    `Print it with: cuttle show-master-key --instance ${inst.name}   (store it apart from the database)`,
    'then run the move again with --yes; or let the move write a passphrase-sealed copy:',
    '  --key-bundle FILE --passphrase-file FILE',
  ];
  if (options.dryRun) warnings.push(`${msg} ${fix[0]}`);
  else problems.push({ check: 'master key saved', code: 'MASTER_KEY_NOT_SAVED', message: msg, fix });
}

function fromError(check: string, err: unknown): PreflightProblem {
  if (err instanceof CuttleError) {
    return { check, code: err.code, message: [err.message, ...err.details].join(' '), fix: err.hints };
  }
  return {
    check,
    code: 'INTERNAL_ERROR',
    message: err instanceof Error ? err.message : String(err),
    fix: [],
  };
}
