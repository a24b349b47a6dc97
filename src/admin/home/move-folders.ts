import fs from 'node:fs';
import path from 'node:path';
import { type InstanceConfig, pushHistory, resolvePath, saveConfig } from '../../config/instance-config.js';
import { PreconditionError, UsageError } from '../../lib/errors.js';
import type { Faults } from '../../lib/faults.js';
import { realPath } from '../../lib/path-checks.js';
import { type ProgressReporter, silentProgress } from '../../lib/progress.js';
import { type Instance, openInstanceStorage } from '../instance-context.js';
import { assertRoom, isInside } from './move-home.js';
import { assertServiceStopped } from './running-service.js';
import { type CopyJournal, listTree, removeCopiedSource, verifiedCopy } from './verified-copy.js';

/**
 * `cuttle path --artifacts DIR --packages DIR --backups DIR`: moves single folders the way
 * move-home moves the whole home (copy, verify, then switch the config, then remove the old
 * folder unless --keep-old). All folders are copied and verified before the config changes once.
 */
export type FolderName = keyof InstanceConfig['paths'];
const FOLDER_JOURNAL = '.cuttle-move-folder.json';

export interface MoveFoldersInput {
  folders: Partial<Record<FolderName, string>>;
  keepOld?: boolean;
  progress?: ProgressReporter;
  /** Crash-test hooks (lib/faults.ts); none in production. */
  faults?: Faults;
}

export interface MovedFolder {
  folder: FolderName;
  from: string;
  to: string;
  files: number;
  bytes: number;
  old: 'removed' | 'kept' | 'partly-removed';
  leftovers: string[];
}

export async function moveFolders(inst: Instance, input: MoveFoldersInput): Promise<MovedFolder[]> {
  const progress = input.progress ?? silentProgress;
  const cfg = inst.config;
  const moves = (Object.entries(input.folders) as [FolderName, string | undefined][])
    .filter((e): e is [FolderName, string] => !!e[1])
    .map(([folder, dir]) => ({ folder, from: resolvePath(cfg, cfg.paths[folder]), to: path.resolve(dir) }))
    .filter((m) => m.from !== m.to);
  if (!moves.length)
    throw new UsageError('Nothing to move: give --artifacts, --packages or --backups with a new folder.', {
      code: 'USAGE_INVALID',
    });
  for (const m of moves) {
    const [realFrom, realTo] = [realPath(m.from), realPath(m.to)];
    if (isInside(realFrom, realTo) || isInside(realTo, realFrom)) {
      throw new UsageError(
        `The new ${m.folder} folder ${m.to} and the old one ${m.from} must not contain each other.`,
        { code: 'FOLDERS_NESTED' },
      );
    }
    const entries = fs.existsSync(m.to) ? fs.readdirSync(m.to) : [];
    if (entries.some((e) => e !== FOLDER_JOURNAL)) {
      throw new PreconditionError(`${m.to} is not empty.`, {
        code: 'FOLDER_NOT_EMPTY',
        hints: ['Give an empty or new folder.'],
      });
    }
  }
  const storage = await openInstanceStorage(inst);
  try {
    await assertServiceStopped(cfg, `move the ${moves.map((m) => m.folder).join(' and ')} folder`, {
      db: storage.db,
    });
  } finally {
    await storage.close();
  }
  for (const m of moves)
    assertRoom(
      m.to,
      listTree(m.from).files.reduce((n, f) => n + f.size, 0),
    );

  const copied: { m: (typeof moves)[number]; journal: CopyJournal; files: number; bytes: number }[] = [];
  for (const m of moves) {
    const journalFile = path.join(m.to, FOLDER_JOURNAL);
    const r = await verifiedCopy({
      from: m.from,
      to: m.to,
      journalFile,
      progress,
      step: m.folder,
      faults: input.faults,
    });
    copied.push({ m, journal: r.journal, files: r.files, bytes: r.bytes });
  }
  const next = structuredClone(cfg);
  for (const { m } of copied) {
    pushHistory(next, `paths.${m.folder}`, cfg.paths[m.folder]);
    next.paths[m.folder] = isInside(cfg.home, m.to) ? path.relative(cfg.home, m.to) : m.to;
  }
  saveConfig(inst.configFile, next);
  return copied.map(({ m, journal, files, bytes }) => {
    fs.rmSync(path.join(m.to, FOLDER_JOURNAL), { force: true });
    if (input.keepOld || !fs.existsSync(m.from))
      return { ...m, files, bytes, old: 'kept' as const, leftovers: [] };
    const leftovers = removeCopiedSource(m.from, journal);
    return {
      ...m,
      files,
      bytes,
      old: leftovers.length ? ('partly-removed' as const) : ('removed' as const),
      leftovers,
    };
  });
}
