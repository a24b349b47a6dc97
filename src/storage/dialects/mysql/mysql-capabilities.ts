import type { EngineCapabilities } from '../dialect.js';

export const mysqlCapabilities: EngineCapabilities = {
  engine: 'mysql',
  displayName: 'MySQL/MariaDB',
  // InnoDB keeps rows in primary-key order whatever the load order was
  loadOrderIsNatural: false,
  loadReplaces: false,
  defaultCopyConcurrency: 2,
  onePassRestore: true,
  quoteIdentifier: (name) => `\`${name.replace(/`/g, '``')}\``,
  // MySQL keeps a NUL; its VARCHAR(255) cannot hold a longer short text, so only NUL is looked for.
  nonPortableText: (c) => `INSTR(${c}, CHAR(0)) > 0`,
  holdsText: { nul: true, shortTextMax: 255 },
  multiNode: true,
  nowTimestampSql: `CONCAT(SUBSTRING(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 1, 23), 'Z')`,
};
