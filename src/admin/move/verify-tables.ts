import { RuntimeFailure } from '../../lib/errors.js';
import type { ProgressReporter } from '../../lib/progress.js';
import { type CanonicalValue, keyOf } from '../../storage/codecs.js';
import { lineWriter } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import { TABLES } from '../../storage/schema/tables.js';
import type { Storage } from '../../storage/storage.js';
import { hashTable, hashTableMatching } from '../../storage/table-hash.js';
import { type ReadOrder, readTable } from '../../storage/table-reader.js';
import { type JournalStore, TARGET_MARKER_KEY } from './move-journal.js';
import { pool } from './pool.js';

/** Tables smaller than this report only their end (a line per batch would be noise). */
export const QUIET_BELOW = 10_000;

/** The target's own marker row is not data of the instance: it is left out of every comparison. */
function rowsOf(storage: Storage, table: TableSpec, isTarget: boolean) {
  const skipMarker = isTarget && table.name === 'instance_metadata';
  return (async function* () {
    for await (const batch of readTable(storage.db, table)) {
      yield skipMarker ? batch.filter((r) => r[0] !== TARGET_MARKER_KEY) : batch;
    }
  })();
}

export async function hashSide(
  storage: Storage,
  table: TableSpec,
  opts: { isTarget?: boolean; onRows?: (n: number) => void; order?: ReadOrder } = {},
): Promise<{ rows: number; sha256: string }> {
  const d = await hashTable(storage.db, table, { ...markerSkip(table, opts.isTarget), ...opts });
  return { rows: d.rows, sha256: d.sha256 };
}

function markerSkip(table: TableSpec, isTarget?: boolean): { skipKey?: string } {
  return isTarget && table.name === 'instance_metadata' ? { skipKey: TARGET_MARKER_KEY } : {};
}

export interface VerifyContext {
  source: Storage;
  target: Storage;
  store: JournalStore;
  progress: ProgressReporter;
  concurrency: number;
}

/**
 * Re-reads every table from the target and compares its row count and content hash with what was
 * hashed on the way out of the source. A difference stops the move before cutover, naming the table
 * and the first key at which the two sides differ.
 */
export async function verifyTables(ctx: VerifyContext): Promise<void> {
  await pool(TABLES, ctx.concurrency, (table) => verifyTable(ctx, table));
}

/** Verifies one copied table (see verifyTables); a table the journal has as verified is skipped. */
export async function verifyTable(ctx: Omit<VerifyContext, 'concurrency'>, table: TableSpec): Promise<void> {
  const { store, progress } = ctx;
  const entry = store.table(table.name);
  if (entry.verified) return;
  const step = `verify ${table.name}`;
  let done = 0;
  // Natural order on the target first (load order: see copy-tables.ts); should that differ, both
  // sides are hashed again in key order, and only a difference there is a difference in the data.
  const got = await hashTableMatching(
    ctx.target.db,
    table,
    { rows: entry.rows ?? 0, sha256: entry.sha256 ?? '', order: entry.order ?? 'key' },
    () => hashSide(ctx.source, table, { order: 'key' }),
    {
      ...markerSkip(table, true),
      onRows: (n) => {
        done += n;
        if ((entry.rows ?? 0) >= QUIET_BELOW)
          progress.update({ step, done, total: entry.rows, unit: 'rows' });
      },
    },
  );
  if (!got.matches) {
    progress.update({ step, state: 'failed' });
    const diff = await firstDifference(ctx.source, ctx.target, table);
    throw new RuntimeFailure(
      `Verification failed for table ${table.name}: the target has ${got.rows} rows (source ${entry.rows})${diff ? `; first difference at ${diff}` : ''}.`,
      {
        code: 'MOVE_VERIFY_FAILED',
        hints: [
          'The move stopped before cutover: the instance still uses the old database, which is unchanged.',
          'Look at the target server (disk, encoding, triggers), then run `cuttle database move --resume` to copy the table again.',
        ],
      },
    );
  }
  store.update(() => {
    store.table(table.name).verified = true;
  });
  progress.update({ step, done: got.rows, total: got.rows, unit: 'rows', state: 'done' });
}

/** Bytewise order of canonical key values, the order every engine's primary key index has. */
function compareValues(a: CanonicalValue, b: CanonicalValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

function compareKeys(table: TableSpec, a: CanonicalValue[], b: CanonicalValue[], idx: number[]): number {
  for (const i of idx) {
    const c = compareValues(a[i] ?? null, b[i] ?? null);
    if (c) return c;
  }
  void table;
  return 0;
}

async function* flatten(batches: AsyncIterable<CanonicalValue[][]>): AsyncGenerator<CanonicalValue[]> {
  for await (const b of batches) yield* b;
}

/** Merge-compares both sides in primary-key order; returns where they first differ. */
async function firstDifference(
  source: Storage,
  target: Storage,
  table: TableSpec,
): Promise<string | undefined> {
  const idx = table.primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
  const line = lineWriter(table);
  const s = flatten(rowsOf(source, table, false));
  const t = flatten(rowsOf(target, table, true));
  try {
    let a = await s.next();
    let b = await t.next();
    while (!a.done || !b.done) {
      if (a.done) return `${keyOf(table, b.value!)} (a row only on the target)`;
      if (b.done) return `${keyOf(table, a.value)} (missing on the target)`;
      const c = compareKeys(table, a.value, b.value, idx);
      if (c < 0) return `${keyOf(table, a.value)} (missing on the target)`;
      if (c > 0) return `${keyOf(table, b.value)} (a row only on the target)`;
      if (line(a.value) !== line(b.value)) {
        const col = table.columns.find((_, i) => compareValues(a.value[i] ?? null, b.value[i] ?? null) !== 0);
        return `${keyOf(table, a.value)} (column ${col?.name ?? '?'} differs)`;
      }
      a = await s.next();
      b = await t.next();
    }
    return undefined;
  } finally {
    await s.return(undefined);
    await t.return(undefined);
  }
}
