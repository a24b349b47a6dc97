import type { Kysely } from 'kysely';
import { RuntimeFailure } from '../../lib/errors.js';
import type { Database } from '../schema/database-types.js';

/**
 * Application-made ids (`Projects-12`) from the key_allocations table, never from engine sequences,
 * so a copied row keeps its key and a moved database needs no sequence reset.
 *
 * Outside a transaction, ids are reserved in blocks of 20 (HiLo, as Octopus does) so a busy node
 * touches the allocation row once per block. Inside a transaction one id is reserved at a time
 * within that transaction, so a rollback gives it back together with the rows that used it.
 * Gaps after a restart are expected and harmless. Every collection has its row from the migration
 * that introduced it (ID_COLLECTIONS), so allocation never races to create a row.
 */
const ID_COLLECTIONS = [
  '$change',
  'Users',
  'ApiKeys',
  'Spaces',
  'ProjectGroups',
  'Lifecycles',
  'Environments',
  'Projects',
  'Channels',
  'Variables',
  'Releases',
  'Deployments',
  'ServerTasks',
  'Artifacts',
  'Events',
] as const;

const BLOCK = 20;

interface Block {
  next: number;
  end: number;
}

const blocks = new WeakMap<object, Map<string, Block>>();

/**
 * Reserves `size` numbers. Inside a transaction: an increment of the row, then a read of it. The
 * increment works on the row's latest committed value on every engine (PostgreSQL re-reads it
 * under READ COMMITTED, InnoDB's UPDATE is a locking read even in a REPEATABLE READ snapshot), the
 * read sees the transaction's own write, and the row stays locked until the transaction ends, so
 * two writers never get the same numbers. (A compare-and-set on a value read first can never
 * succeed on MySQL in a transaction whose snapshot is older than the row: it starved.)
 * Outside a transaction: a compare-and-set of autocommitted statements, each of which sees the
 * latest value, so no lock is held across an await (on SQLite, whose driver blocks the thread
 * while it waits for a lock, one held across an await by another connection would deadlock).
 */
async function reserve(db: Kysely<Database>, collection: string, size: number): Promise<number> {
  return db.isTransaction ? incrementAndRead(db, collection, size) : compareAndSet(db, collection, size);
}

async function incrementAndRead(db: Kysely<Database>, collection: string, size: number): Promise<number> {
  const res = await db
    .updateTable('key_allocations')
    .set((eb) => ({ next_id: eb('next_id', '+', size) }))
    .where('collection_name', '=', collection)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw missingRow(collection);
  const row = await db
    .selectFrom('key_allocations')
    .select('next_id')
    .where('collection_name', '=', collection)
    .executeTakeFirstOrThrow();
  return Number(row.next_id) - size;
}

async function compareAndSet(db: Kysely<Database>, collection: string, size: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const row = await db
      .selectFrom('key_allocations')
      .select('next_id')
      .where('collection_name', '=', collection)
      .executeTakeFirst();
    if (!row) throw missingRow(collection);
    const start = Number(row.next_id);
    const res = await db
      .updateTable('key_allocations')
      .set({ next_id: start + size })
      .where('collection_name', '=', collection)
      .where('next_id', '=', start)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return start;
  }
  throw new RuntimeFailure(`Could not reserve ids for ${collection}: too much contention.`, {
    code: 'ID_CONTENTION',
  });
}

/** A programming error (a collection without its migration row), not a user's: a plain Error. */
function missingRow(collection: string): Error {
  return new Error(`No key allocation row for "${collection}": add it in a migration (ID_COLLECTIONS).`);
}

async function nextNumber(db: Kysely<Database>, collection: string): Promise<number> {
  if (db.isTransaction) return reserve(db, collection, 1);
  let cache = blocks.get(db);
  if (!cache) {
    cache = new Map();
    blocks.set(db, cache);
  }
  let b = cache.get(collection);
  if (!b || b.next >= b.end) {
    const start = await reserve(db, collection, BLOCK);
    b = { next: start, end: start + BLOCK };
    cache.set(collection, b);
  }
  return b.next++;
}

export async function nextId(db: Kysely<Database>, prefix: (typeof ID_COLLECTIONS)[number]): Promise<string> {
  return `${prefix}-${await nextNumber(db, prefix)}`;
}

/** Change numbers come from the same allocator: unique per database, increasing per node. */
export function nextChangeNumber(db: Kysely<Database>): Promise<number> {
  return nextNumber(db, '$change');
}
