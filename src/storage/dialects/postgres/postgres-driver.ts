import { type PostgresCursorConstructor, PostgresDialect } from 'kysely';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import { withTableReads } from '../table-reads.js';
import { fastCopyTo } from './copy-out-stream.js';
import { postgresTableReads } from './postgres-table-reads.js';

/**
 * Kysely's streaming hook (`cursor`): a `COPY ... TO STDOUT` statement streams its raw text, one
 * network read per item, on the connection Kysely provides (pooled or a snapshot's transaction);
 * any other statement gets a pg-cursor. Closing a COPY early reads it to its end: the protocol has
 * no way to stop it short of cancelling, which would abort the caller's transaction.
 */
function copyOrCursor(text: string, params: unknown[]) {
  if (!/^\s*COPY\b/i.test(text)) return new Cursor(text, params);
  // 1 MB read-ahead: the server keeps sending while the reader decodes
  const stream = fastCopyTo(text, { highWaterMark: 1 << 20 });
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let done = false;
  const read = async (): Promise<Buffer[]> => {
    if (done) return [];
    const r = await it.next();
    if (r.done) done = true;
    return r.done ? [] : [r.value];
  };
  const close = async (): Promise<void> => {
    try {
      while (!done) if ((await it.next()).done) done = true;
    } catch {
      done = true;
    }
  };
  // The stream is the pg submittable; `read` and `close` are the cursor's (not Readable's read).
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'read') return read;
      if (prop === 'close') return close;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The Kysely dialect of a pg pool: COPY statements stream, tables are read with COPY (postgres-table-reads.ts). */
export function postgresKyselyDialect(pool: pg.Pool) {
  return withTableReads(
    new PostgresDialect({ pool, cursor: copyOrCursor as unknown as PostgresCursorConstructor }),
    postgresTableReads,
  );
}
