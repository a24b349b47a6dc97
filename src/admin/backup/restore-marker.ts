import type { Kysely } from 'kysely';
import { PreconditionError } from '../../lib/errors.js';
import { getMetaJson } from '../../storage/repositories/metadata-repository.js';
import type { Database } from '../../storage/schema/database-types.js';

/**
 * Written into instance_metadata before a restore loads anything and deleted as its very last
 * database step: a database that still has it was left half-restored (killed, crashed), and no
 * command may use it until `backup restore --overwrite` runs again.
 */
export const RESTORE_MARKER = 'restore-in-progress';

export interface RestoreMarker {
  archive: string;
  started: string;
  pid: number;
}

export async function readRestoreMarker(db: Kysely<Database>): Promise<RestoreMarker | undefined> {
  return getMetaJson<RestoreMarker>(db, RESTORE_MARKER);
}

export function incompleteRestoreError(marker: RestoreMarker, where: string): PreconditionError {
  return new PreconditionError(
    `The database at ${where} holds an incomplete restore (of ${marker.archive}, started ${marker.started}) and must not be used.`,
    {
      code: 'RESTORE_UNFINISHED',
      hints: [
        `Run the restore again with --overwrite: cuttle backup restore ${marker.archive} --storage-connection-string "..." --overwrite`,
      ],
    },
  );
}
