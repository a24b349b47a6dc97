import { type ConnectionTarget, describeTarget } from '../../config/connection-string.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { PreconditionError } from '../../lib/errors.js';
import { deleteMeta, getMetaJson, META } from '../../storage/repositories/metadata-repository.js';
import { openStorage } from '../../storage/storage.js';
import { checkStorage, type FenceMarker } from '../instance-context.js';

/**
 * Lifts the fence of a database a move left behind: a deliberate rollback to the old copy. The key
 * must open the canary (so nobody unfences a database of another instance by mistake).
 */
export async function unfenceDatabase(target: ConnectionTarget, key: MasterKey): Promise<FenceMarker> {
  const storage = await openStorage(target);
  try {
    await checkStorage(storage, key, { allowFenced: true });
    const fence = await getMetaJson<FenceMarker>(storage.db, META.fence);
    if (!fence) {
      throw new PreconditionError(`The database at ${describeTarget(target)} is not fenced.`, {
        code: 'NOT_FENCED',
      });
    }
    await deleteMeta(storage.db, META.fence);
    return fence;
  } finally {
    await storage.close();
  }
}
