import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Engine } from '../../src/config/connection-string.js';
import { type CanonicalValue, decodeRow } from '../../src/storage/codecs.js';
import { createTableSql } from '../../src/storage/dialects/dialect.js';
import { lineWriter, RowTextHasher } from '../../src/storage/row-text.js';
import type { LogicalType, TableSpec } from '../../src/storage/schema/column-types.js';
import type { Database } from '../../src/storage/schema/database-types.js';
import { openStorage, type Storage } from '../../src/storage/storage.js';
import { hashTable } from '../../src/storage/table-hash.js';
import { readTable } from '../../src/storage/table-reader.js';
import type { TestDatabase } from './engines.js';

/**
 * One scratch table with a column of every logical type (and a nullable twin of each), edge values
 * given in canonical form, and the round trip the backup/restore/move code relies on:
 * canonical -> decodeRow -> Kysely insert -> row text read by the engine's own path (COPY on
 * PostgreSQL, keyset pages elsewhere) -> canonical, and the table's digest (hashTable) against
 * the digest of the expected rows encoded by lineWriter. The expected rows and digest are computed from this file alone, so two processes
 * (UTC and TZ=America/New_York) and three engines are compared against the same value.
 */
const TYPES: LogicalType[] = [
  'text',
  'longtext',
  'json',
  'int',
  'bigint',
  'int64',
  'bool',
  'timestamp',
  'blob',
];
const NAMES: Record<LogicalType, string> = {
  id: 'id',
  text: 'name',
  longtext: 'body',
  json: 'doc',
  int: 'i32',
  bigint: 'counter',
  int64: 'big',
  bool: 'flag',
  timestamp: 'at',
  blob: 'bytes',
};

export const CODEC_TABLE: TableSpec = {
  name: 'codec_scratch',
  columns: [
    { name: 'id', type: 'id' },
    ...TYPES.map((type) => ({ name: NAMES[type], type })),
    ...TYPES.map((type) => ({ name: `${NAMES[type]}_n`, type, nullable: true })),
  ],
  primaryKey: ['id'],
  indexes: [{ name: 'ux_codec_scratch_name', columns: ['name'], unique: true }],
};

export const DATES_TABLE: TableSpec = {
  name: 'codec_dates',
  columns: [
    { name: 'id', type: 'id' },
    { name: 'at', type: 'timestamp' },
  ],
  primaryKey: ['id'],
};

/** 1 MiB of reproducible "random" bytes (SHA-256 in counter mode), the same in every process. */
function pseudoRandom(bytes: number, seed: string): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i * 32 < bytes; i++) blocks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, bytes);
}

const b64 = (b: Buffer | number[]) => Buffer.from(b).toString('base64');

type Row = Partial<Record<string, CanonicalValue>>;
const base = (id: string, name: string, over: Row = {}): Row => ({
  id,
  name,
  body: `body of ${id}`,
  doc: '{}',
  i32: 0,
  counter: 0,
  big: '0',
  flag: false,
  at: '2000-01-01T00:00:00.000Z',
  bytes: '',
  ...over,
});

/** The rows in canonical form (what reading the table must give back), in primary-key order. */
export function expectedRows(): CanonicalValue[][] {
  const rows: Row[] = [
    base('Row-01', 'abc', {
      body: '',
      doc: '{"b":1,"a":2,"a":3}',
      i32: 2147483647,
      counter: Number.MAX_SAFE_INTEGER,
      big: '9007199254740993',
      flag: true,
      at: '1970-01-01T00:00:00.000Z',
      bytes: b64([0x00, 0xff, 0x0a, 0x0d, 0x5c, 0x27, 0x00]),
    }),
    base('Row-02', 'ABC', {
      body: 'line1\nline2\r\n\ttab "double" \'single\' back\\slash \u007f \u2028 form\ffeed vertical\vtab back\bspace C:\\folder\\vault \\N',
      doc: '{ "spaced" : [1, 2.50, 1e3],\n  "u":"\\u00e9", "n": null }',
      i32: -2147483648,
      counter: -Number.MAX_SAFE_INTEGER,
      big: '-9223372036854775808',
      at: '2100-12-31T23:59:59.999Z',
      name_n: '',
      body_n: '',
      doc_n: '',
      i32_n: 0,
      counter_n: 0,
      big_n: '0',
      flag_n: false,
      at_n: '2024-02-29T12:34:56.789Z',
      bytes_n: '',
    }),
    base('Row-03', '\u00c1bc', {
      body: 'Unicode: \u00e9t\u00e9 \u65e5\u672c\u8a9e \u{1f600}\u{1f468}\u200d\u{1f469}\u200d\u{1f467} e\u0301 \u{10ffff}',
      doc: '{"emoji":"\u{1f419}","key order":{"z":1,"a":2}}',
      big: '9223372036854775807',
      at: '2024-02-29T23:59:59.999Z',
      bytes: b64(pseudoRandom(1024 * 1024, 'codec')),
      flag_n: true,
      big_n: '-9007199254740993',
    }),
    base('Row-04', 'abc ', { at: '2024-02-29T00:00:00.001Z' }),
    base('Row-05', 'e\u0301', { doc: '[]' }),
    base('Row-06', '\u00e9', { doc: '"x"' }),
    base('Row-07', '', { body: 'empty name' }),
    base('Row-08', '\u00df'),
    base('Row-09', 'ss'),
    base('Row-10', 'smile \u{1f600}'),
    base('Row-9', 'nine'),
    base('row-1', 'lower'),
    base('Row-\u00c9', 'E acute key'),
    base('Row-\ufffd', 'BMP high key'),
    base('Row-\u{1f600}', 'astral key'),
  ];
  const values = rows.map((r) => CODEC_TABLE.columns.map((c) => r[c.name] ?? null));
  // Bytewise (UTF-8) key order, which is what every engine's key collation gives.
  return values.sort((a, b) => Buffer.compare(Buffer.from(String(a[0])), Buffer.from(String(b[0]))));
}

export function digestOf(rows: CanonicalValue[][], table: TableSpec = CODEC_TABLE): string {
  const write = lineWriter(table);
  const h = new RowTextHasher();
  for (const r of rows) h.add(Buffer.from(write(r), 'utf8'));
  return h.digest();
}

const quoteFor = (engine: Engine) =>
  engine === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;

export async function createScratchTable(storage: Storage, table: TableSpec): Promise<void> {
  const quote = quoteFor(storage.engine);
  await sql.raw(createTableSql(storage.dialect, table, quote)).execute(storage.db);
  for (const ix of table.indexes ?? []) {
    await sql
      .raw(
        `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quote(ix.name)} ON ${quote(table.name)} (${ix.columns.map(quote).join(', ')})`,
      )
      .execute(storage.db);
  }
}

export async function readAll(db: Kysely<Database>, table: TableSpec, batchSize?: number) {
  const rows: CanonicalValue[][] = [];
  for await (const batch of readTable(db, table, { batchSize })) rows.push(...batch);
  return rows;
}

export interface RoundTrip {
  rows: CanonicalValue[][];
  /** The same table read with a batch size of 4, so keyset pagination crosses unicode keys. */
  pagedRows: CanonicalValue[][];
  digest: string;
  /** Timestamp column after binding JavaScript Dates (builder and raw `sql`). */
  dates: CanonicalValue[][];
}

/** Creates the scratch tables in `t` (a database of its own), inserts, reads back. */
export async function roundTrip(t: TestDatabase): Promise<RoundTrip> {
  const storage = await openStorage(t.target, { create: true });
  try {
    await createScratchTable(storage, CODEC_TABLE);
    await createScratchTable(storage, DATES_TABLE);
    const db = storage.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    // Shuffled insert order: the read order must come from the key collation, not insertion.
    const input = expectedRows().reverse();
    for (const values of input) {
      await db.insertInto(CODEC_TABLE.name).values(decodeRow(CODEC_TABLE, values)).execute();
    }
    const instant = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
    await db.insertInto(DATES_TABLE.name).values({ id: 'builder', at: instant }).execute();
    await sql`INSERT INTO ${sql.table(DATES_TABLE.name)} (id, at) VALUES (${'raw'}, ${instant})`.execute(db);
    const rows = await readAll(storage.db, CODEC_TABLE);
    return {
      rows,
      pagedRows: await readAll(storage.db, CODEC_TABLE, 4),
      digest: (await hashTable(storage.db, CODEC_TABLE)).sha256,
      dates: await readAll(storage.db, DATES_TABLE),
    };
  } finally {
    await storage.close();
  }
}
