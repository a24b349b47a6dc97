import type { Kysely } from 'kysely';
import { nextId } from '../storage/repositories/id-allocator.js';
import { countLifecycles } from '../storage/repositories/lifecycle-repository.js';
import { countProjectGroups } from '../storage/repositories/project-group-repository.js';
import { findDefaultSpace, insertSpace } from '../storage/repositories/space-repository.js';
import { isUniqueViolation } from '../storage/repositories/unique-violation.js';
import type { Database } from '../storage/schema/database-types.js';
import { seedSpaceLibrary } from './space-service.js';

/**
 * First-start data, idempotent: the `Default` space (Spaces-1 on a fresh database) with its
 * default project group and lifecycle. Several nodes may start at once: a lost race on the
 * unique space name is fine, the winner seeded it.
 */
export async function ensureSeedData(db: Kysely<Database>): Promise<void> {
  if (await findDefaultSpace(db)) return;
  try {
    await db.transaction().execute(async (tx) => {
      const id = await nextId(tx, 'Spaces');
      await insertSpace(tx, {
        id,
        name: 'Default',
        name_normalized: 'default',
        slug: 'default',
        description: '',
        is_default: true,
        task_queue_stopped: false,
        json: JSON.stringify({ SpaceManagersTeams: [], SpaceManagersTeamMembers: [] }),
      });
      if ((await countProjectGroups(tx, id)) === 0 || (await countLifecycles(tx, id)) === 0) {
        await seedSpaceLibrary(tx, id);
      }
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
}
