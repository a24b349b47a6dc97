import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { readJsonFile } from '../../config/atomic-file.js';
import {
  type ConnectionTarget,
  formatTarget,
  parseConnectionString,
} from '../../config/connection-string.js';
import { CONFIG_FILE_NAME, configPathFor, createHomeLayout } from '../../config/home-layout.js';
import { type InstanceConfig, pushHistory, saveConfig } from '../../config/instance-config.js';
import { findInstance, registerInstance } from '../../config/instance-registry.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { realPath, requireWritableFolder } from '../../lib/path-checks.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { dialectFactory } from '../../storage/storage.js';
import { type Instance, openCheckedStorage, openInstanceStorage } from '../instance-context.js';
import { assertServiceStopped } from './running-service.js';
import { type CopyJournal, removeCopiedSource, saveJournal, verifiedCopy } from './verified-copy.js';

/**
 * `cuttle configure --home NEWDIR`: moves the home directory. Order of work (each step safe to
 * kill, the next run picks up from the journal in the new home):
 *   preflight (service stopped, room on the disk) -> copy + verify every file -> open the moved
 *   SQLite database with the master key -> write the config in the new home -> switch the
 *   registry entry (the point of no return) -> retire the old copy (removed unless --keep-old).
 * Until the registry switches, the instance runs from the old home as if nothing happened.
 */
export const HOME_JOURNAL = '.cuttle-move-home.json';
const MOVED_CONFIG = `${CONFIG_FILE_NAME}.moved`;
const TRANSIENT = ['run', 'work'];

export interface MoveHomeInput {
  newHome: string;
  keepOld?: boolean;
  progress?: ProgressReporter;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface MoveHomeResult {
  instance: string;
  from: string;
  to: string;
  configFile: string;
  files: number;
  bytes: number;
  database?: { from: string; to: string };
  registryUpdated: boolean;
  oldHome: 'removed' | 'kept' | 'partly-removed';
  leftovers: string[];
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A path stored in the config, moved along when it pointed inside the old home. */
function rebase(stored: string, oldHome: string): string {
  return path.isAbsolute(stored) && isInside(oldHome, stored) ? path.relative(oldHome, stored) : stored;
}

function sqliteInside(cfg: InstanceConfig): string | undefined {
  const t = parseConnectionString(cfg.storage.connectionString, cfg.home);
  const file = dialectFactory(t.engine).databaseFile(t);
  return file !== undefined && isInside(cfg.home, file) ? path.relative(cfg.home, file) : undefined;
}

export function assertRoom(dir: string, bytes: number): void {
  let probe = dir;
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const st = fs.statfsSync(probe);
  const free = st.bavail * st.bsize;
  if (free < bytes) {
    throw new PreconditionError(
      `${dir} has ${Math.floor(free / 2 ** 20)} MB free; the copy needs ${Math.ceil(bytes / 2 ** 20)} MB.`,
      { code: 'DISK_SPACE_LOW', hints: ['Free some space or choose another disk.'] },
    );
  }
}

function treeSize(dir: string): number {
  let n = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) n += fs.statSync(path.join(d.parentPath ?? d.path, d.name)).size;
  }
  return n;
}

function retireOld(from: string, journal: CopyJournal, keepOld: boolean) {
  const oldConfig = configPathFor(from);
  if (fs.existsSync(oldConfig)) fs.renameSync(oldConfig, path.join(from, MOVED_CONFIG));
  if (keepOld) return { oldHome: 'kept' as const, leftovers: [] };
  const leftovers = removeCopiedSource(from, journal, [...TRANSIENT, MOVED_CONFIG]);
  return { oldHome: leftovers.length ? ('partly-removed' as const) : ('removed' as const), leftovers };
}

export async function moveHome(inst: Instance, input: MoveHomeInput): Promise<MoveHomeResult> {
  const progress = input.progress ?? silentProgress;
  const cfg = inst.config;
  const from = path.resolve(cfg.home);
  const to = path.resolve(input.newHome);
  const journalFile = path.join(to, HOME_JOURNAL);
  const base = { instance: inst.name, from, to, configFile: configPathFor(to) };

  if (from === to) {
    if (!fs.existsSync(journalFile))
      throw new UsageError(`Instance "${inst.name}" already lives in ${to}.`, { code: 'OPTION_INVALID' });
    const journal = readJsonFile<CopyJournal>(journalFile);
    const r = retireOld(journal.from, journal, !!input.keepOld);
    fs.rmSync(journalFile, { force: true });
    return { ...base, from: journal.from, files: 0, bytes: 0, registryUpdated: true, ...r };
  }
  const [realFrom, realTo] = [realPath(from), realPath(to)];
  if (isInside(realFrom, realTo) || isInside(realTo, realFrom)) {
    const via = realTo !== to || realFrom !== from ? ` (${realTo} and ${realFrom}, symlinks resolved)` : '';
    throw new UsageError(`The new home ${to} and the old home ${from} must not contain each other${via}.`, {
      code: 'FOLDERS_NESTED',
    });
  }
  requireWritableFolder(to, 'The new home');
  if (fs.existsSync(to) && fs.readdirSync(to).length && !fs.existsSync(journalFile)) {
    throw new PreconditionError(`${to} is not empty.`, {
      code: 'FOLDER_NOT_EMPTY',
      hints: ['Give an empty or new folder as the new home.'],
    });
  }
  if (fs.existsSync(configPathFor(to)) && !fs.existsSync(journalFile)) {
    throw new PreconditionError(`${to} already holds an instance config.`, { code: 'INSTANCE_EXISTS' });
  }

  const dbRel = sqliteInside(cfg);
  const storage = await openInstanceStorage(inst);
  try {
    await assertServiceStopped(cfg, 'move the home directory', { db: storage.db });
    if (dbRel) await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(storage.db);
  } finally {
    await storage.close();
  }
  assertRoom(to, treeSize(from));

  const exclude = (rel: string) =>
    rel === CONFIG_FILE_NAME ||
    rel === MOVED_CONFIG ||
    rel.startsWith(`${CONFIG_FILE_NAME}.tmp-`) ||
    TRANSIENT.some((t) => rel.startsWith(`${t}/`));
  const { faults } = input;
  const copy = await verifiedCopy({ from, to, journalFile, exclude, progress, step: 'home', faults });
  createHomeLayout(to);

  let database: MoveHomeResult['database'];
  const next = structuredClone(cfg);
  next.home = to;
  next.masterKeyFile = rebase(cfg.masterKeyFile, from);
  for (const k of Object.keys(next.paths) as (keyof InstanceConfig['paths'])[]) {
    next.paths[k] = rebase(cfg.paths[k], from);
  }
  if (dbRel) {
    const moved: ConnectionTarget = { engine: 'sqlite', file: path.join(to, dbRel) };
    const check = await openCheckedStorage(moved, inst.key);
    await check.close();
    next.storage = { connectionString: formatTarget(moved) };
    database = { from: path.join(from, dbRel), to: moved.file };
  }
  pushHistory(next, 'home', from, 'moved with configure --home');
  saveConfig(configPathFor(to), next);
  copy.journal.state = 'config-written';
  saveJournal(journalFile, copy.journal);
  progress.update({ step: 'home:config', state: 'done', message: configPathFor(to) });
  faults?.at('home:before-registry');

  const entry = findInstance(inst.name);
  const registryUpdated = !!entry && path.resolve(entry.configFile) === path.resolve(inst.configFile);
  if (registryUpdated) registerInstance(inst.name, configPathFor(to), { replace: true });
  copy.journal.state = 'switched';
  saveJournal(journalFile, copy.journal);
  progress.update({ step: 'home:registry', state: registryUpdated ? 'done' : 'skipped' });

  const r = retireOld(from, copy.journal, !!input.keepOld);
  fs.rmSync(journalFile, { force: true });
  return { ...base, files: copy.files, bytes: copy.bytes, database, registryUpdated, ...r };
}
