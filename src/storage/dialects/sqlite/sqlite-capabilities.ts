import type { EngineCapabilities } from '../dialect.js';

export const sqliteCapabilities: EngineCapabilities = {
  engine: 'sqlite',
  displayName: 'SQLite',
  // natural order is the rowid, which an insert into an empty table hands out in load order
  loadOrderIsNatural: true,
  loadReplaces: false,
  // one writer at a time: a second table copied at once would only wait for the first
  defaultCopyConcurrency: 1,
  // the restore checks the room in the file's folder against the archive's sizes first
  onePassRestore: false,
  quoteIdentifier: (name) => `"${name.replace(/"/g, '""')}"`,
  // SQLite keeps any text: a NUL, and any length. length() counts characters (up to a NUL).
  nonPortableText: (c, max) => `(instr(${c}, char(0)) > 0${max ? ` OR length(${c}) > ${max}` : ''})`,
  holdsText: { nul: true },
  multiNode: false,
  nowTimestampSql: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
};
