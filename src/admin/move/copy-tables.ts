import { sql } from 'kysely';
import type { ProgressReporter } from '../../lib/progress.js';
import { bulkLoadText } from '../../storage/bulk-load/bulk-loader.js';
import {
  buildIndexes,
  buildMissingIndexes,
  deferIndexesFromRows,
  dropIndexes,
} from '../../storage/bulk-load/deferred-indexes.js';
import { RowTextHasher } from '../../storage/row-text.js';
import type { TableSpec } from '../../storage/schema/column-types.js';
import { TABLES } from '../../storage/schema/tables.js';
import type { Storage } from '../../storage/storage.js';
import { type ReadOrder, readTableText } from '../../storage/table-reader.js';
import { BackgroundVerifier } from './background-verifier.js';
import type { MoveFaults } from './move-faults.js';
import { type JournalStore, TARGET_MARKER_KEY } from './move-journal.js';
import { pool } from './pool.js';
import { prefetch } from './prefetch.js';
import { hashSide, QUIET_BELOW } from './verify-tables.js';

/** Bytes read ahead per table being copied (two tables at once: about 2 x 8 MB of row text in flight). */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
export interface CopyContext {
  source: Storage;
  target: Storage;
  store: JournalStore;
  progress: ProgressReporter;
  /** Expected rows per table (from preflight), for progress and scheduling. */
  rowCounts: Map<string, number>;
  concurrency: number;
  /** Resuming: tables the journal has as copied are re-checked on both sides before being kept. */
  resume: boolean;
  faults: MoveFaults;
}

/**
 * Largest tables first, so two workers finish together (the copy order has no foreign keys to honour).
 * Each freshly copied table is verified (verify-tables.ts) in the background while the next ones
 * copy (background-verifier.ts): the re-read of the target overlaps the copy instead of following
 * it, and verifyTables then only has the tables left that were not verified here. A crash test's
 * hook that changes rows between copy and verify turns the early checks off (move-faults.ts).
 */
export async function copyTables(ctx: CopyContext): Promise<void> {
  const order = [...TABLES].sort(
    (a, b) => (ctx.rowCounts.get(b.name) ?? 0) - (ctx.rowCounts.get(a.name) ?? 0),
  );
  const { faults } = ctx;
  const verifier = new BackgroundVerifier(ctx);
  try {
    await pool(order, ctx.concurrency, async (table) => {
      verifier.throwIfFailed();
      const entry = ctx.store.table(table.name);
      if (entry.state === 'copied') {
        if (!ctx.resume || (await stillCopied(ctx, table))) return;
        ctx.progress.note(`${table.name}: changed since it was copied; copying it again.`);
      }
      verifier.copying(+1);
      try {
        await copyTable(ctx, table);
      } finally {
        verifier.copying(-1);
      }
      faults.at(`move:after-copy:${table.name}`);
      await faults.afterTableCopy(table.name, ctx.target);
      if (faults.checksBesideCopies) verifier.add(table);
    });
  } finally {
    await verifier.idle();
  }
  verifier.throwIfFailed();
  // an earlier run may have died between dropping a table's indexes and building them
  await buildMissingIndexes(ctx.target, TABLES);
}

async function stillCopied(ctx: CopyContext, table: TableSpec): Promise<boolean> {
  const entry = ctx.store.table(table.name);
  ctx.progress.update({ step: `re-check ${table.name}`, message: 'hashing source and target' });
  // the source as it was streamed; the target in natural order, which is load order (a journal
  // of 0.2.0 has no order: both sides in key order, as it copied)
  const [s, t] = await Promise.all([
    hashSide(ctx.source, table, { order: entry.order ?? 'key' }),
    hashSide(ctx.target, table, { isTarget: true, order: entry.order ? 'natural' : 'key' }),
  ]);
  const same = s.sha256 === entry.sha256 && t.sha256 === entry.sha256 && s.rows === entry.rows;
  ctx.progress.update({
    step: `re-check ${table.name}`,
    state: 'done',
    message: same ? 'kept' : 'differs',
  });
  return same;
}

/** Empties the target table (a half-copied one, or the rows the migration seeded). */
async function clearTarget(target: Storage, table: TableSpec): Promise<void> {
  if (table.name === 'instance_metadata') {
    await sql`DELETE FROM ${sql.table(table.name)} WHERE ${sql.ref('key')} <> ${TARGET_MARKER_KEY}`.execute(
      target.db,
    );
  } else {
    await sql`DELETE FROM ${sql.table(table.name)}`.execute(target.db);
  }
}

/**
 * The order a table is streamed in: the source's cheapest (natural) where the target reads a
 * table it bulk-loaded back in load order, so that both sides are hashed without an index or a
 * sort; key order for MySQL targets (InnoDB reads in key order whatever the load order was).
 * instance_metadata keeps the target's marker row through the copy, so it is not loaded into an
 * empty table: key order (it has a few rows).
 */
function streamOrder(ctx: CopyContext, table: TableSpec): ReadOrder {
  return ctx.target.capabilities.loadOrderIsNatural && table.name !== 'instance_metadata' ? 'natural' : 'key';
}

async function copyTable(ctx: CopyContext, table: TableSpec): Promise<void> {
  const { store, progress } = ctx;
  const started = Date.now();
  const order = streamOrder(ctx, table);
  store.update(() => {
    Object.assign(store.table(table.name), { state: 'copying', rows: undefined, sha256: undefined, order });
  });
  // a natural-order copy into PostgreSQL empties the table in the load's transaction (replace)
  if (order === 'key' || !ctx.target.capabilities.loadReplaces) await clearTarget(ctx.target, table);
  // a big table loads without its indexes and gets them after (deferred-indexes.ts); if this run
  // dies in between, the resumed one builds what is missing at the end of copyTables
  const deferred = (ctx.rowCounts.get(table.name) ?? 0) >= deferIndexesFromRows();
  if (deferred) await dropIndexes(ctx.target, table);
  const hasher = new RowTextHasher();
  const total = ctx.rowCounts.get(table.name);
  const step = `copy ${table.name}`;
  // Row text leaves the source, is hashed in whole pieces and goes into the target's bulk path as
  // it is: PostgreSQL to PostgreSQL is COPY TO piped into COPY FROM, with SHA-256 on the way.
  async function* hashed(): AsyncGenerator<{ piece: Buffer; rows: number }> {
    for await (const piece of readTableText(ctx.source.db, table, { order })) {
      yield { piece, rows: hasher.add(piece) };
    }
  }
  // progress counts what the loader has taken (the hasher counted the rows already)
  async function* text(): AsyncGenerator<Buffer> {
    let loaded = 0;
    for await (const b of prefetch(hashed(), (x) => x.piece.length, READ_AHEAD_BYTES)) {
      yield b.piece;
      loaded += b.rows;
      if ((total ?? 0) >= QUIET_BELOW) progress.update({ step, done: loaded, total, unit: 'rows' });
      ctx.faults.progressed(`move:rows:${table.name}`, loaded);
    }
  }
  const rows = await bulkLoadText(ctx.target, table, text(), { replace: order === 'natural' });
  if (deferred) {
    progress.update({ step, done: rows, total: rows, unit: 'rows', message: '(building indexes)' });
    await buildIndexes(ctx.target, table);
  }
  const sha256 = hasher.digest();
  store.update(() => {
    Object.assign(store.table(table.name), {
      state: 'copied',
      rows,
      bytes: hasher.bytes,
      sha256,
      seconds: (Date.now() - started) / 1000,
      verified: false,
    });
  });
  progress.update({ step, done: rows, total: rows, unit: 'rows', state: 'done' });
}
