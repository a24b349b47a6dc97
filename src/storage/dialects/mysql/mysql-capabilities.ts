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
};
