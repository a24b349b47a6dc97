import type { EngineCapabilities } from '../dialect.js';

export const postgresCapabilities: EngineCapabilities = {
  engine: 'postgres',
  displayName: 'PostgreSQL',
  // the loader's TRUNCATE in the load's transaction makes COPY append page after page (see
  // postgres-bulk-load.ts), and a sequential scan reads the pages in that order
  loadOrderIsNatural: true,
  loadReplaces: true,
  defaultCopyConcurrency: 2,
  onePassRestore: true,
  quoteIdentifier: (name) => `"${name.replace(/"/g, '""')}"`,
  // PostgreSQL refuses NUL in text; only the length of short text can be outside the domain.
  nonPortableText: (c, max) => (max ? `char_length(${c}) > ${max}` : undefined),
  holdsText: { nul: false },
  multiNode: true,
  // COLLATE: timestamp columns are COLLATE "C", and a comparison of two implicit collations fails
  nowTimestampSql: `(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') COLLATE "C")`,
};
