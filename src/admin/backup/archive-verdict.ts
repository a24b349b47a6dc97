import type { MasterKey } from '../../crypto/master-key.js';
import type { CodeOfKind } from '../../lib/error-codes.js';
import { PreconditionError } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { dialectFactory, ENGINE_NAMES } from '../../storage/dialects/registry.js';
import { LATEST_SCHEMA_VERSION } from '../../storage/migrator.js';
import { describeNonPortable, refusedBy } from './archive-portable-scan.js';
import { type ArchiveKeyCheck, checkArchiveKey, type KeyInput } from './backup-key.js';
import { type ArchiveContents, readAndVerify } from './backup-verify.js';

/** What `backup verify` (CLI) and `POST /api/admin/backups/verify` both answer about an archive. */
export interface ArchiveVerdict {
  contents: ArchiveContents;
  key: ArchiveKeyCheck;
  /** Set when this Cuttle cannot restore the archive although it is intact (a newer schema). */
  cannotRestore?: string;
  /**
   * Old values outside the portable domain, one line each, and the engines that cannot store them
   * (a restore there refuses). Not a problem: the archive is intact and restores elsewhere.
   */
  nonPortable: string[];
  notRestorableTo: string[];
  /** Every problem line: damage, the key, and that this version cannot restore it. */
  problems: string[];
  /** The code a failed verification reports: the archive's damage first, then the key, then the version. */
  code?: CodeOfKind<'precondition'>;
}

/** Reads the whole archive, checks the key, and whether this version can restore what it holds. */
export async function verifyArchive(
  file: string,
  keySource: { key: MasterKey } | KeyInput,
  progress?: ProgressReporter,
): Promise<ArchiveVerdict> {
  const contents = await readAndVerify(file, progress);
  const key = await checkArchiveKey(contents, keySource);
  const m = contents.manifest;
  const cannotRestore =
    m.schemaVersion > LATEST_SCHEMA_VERSION
      ? `This Cuttle cannot restore it: the archive has schema version ${m.schemaVersion}, newer than this Cuttle knows (${LATEST_SCHEMA_VERSION}); restore it with Cuttle ${m.cuttleVersion} or newer.`
      : undefined;
  const problems = [
    ...contents.problems,
    ...(key.problem ? [key.problem] : []),
    ...(cannotRestore ? [cannotRestore] : []),
  ];
  const code = contents.problems.length
    ? 'ARCHIVE_DAMAGED'
    : key.problem
      ? 'ARCHIVE_KEY_WRONG'
      : cannotRestore
        ? 'ARCHIVE_UNSUPPORTED'
        : undefined;
  const notRestorableTo = ENGINE_NAMES.filter(
    (e) => refusedBy(contents.nonPortable, dialectFactory(e).capabilities).length,
  ).map((e) => dialectFactory(e).capabilities.displayName);
  const nonPortable = describeNonPortable(contents.nonPortable);
  return { contents, key, cannotRestore, nonPortable, notRestorableTo, problems, code };
}

/** The CLI's error after a failed verification report: exit 2 with the verdict's code. */
export function verificationFailed(file: string, v: ArchiveVerdict): PreconditionError | undefined {
  if (!v.code) return undefined;
  return new PreconditionError(
    v.cannotRestore && v.problems.length === 1
      ? `The backup archive ${file} is intact, but this version of Cuttle cannot restore it.`
      : `The backup archive ${file} fails verification (${v.problems.length} problem(s)).`,
    { code: v.code, details: v.problems },
  );
}
