import type { TableSpec } from './column-types.js';
import { TABLES_V1 } from './tables-v1.js';
import { PORTAL_TABLES_V3 } from './tables-v3.js';

/**
 * The logical schema at the newest migration (0001, the index of 0002, the portal's tables of 0003), in copy order (parents first). Backup, restore, move
 * and verification iterate this list; a test checks the live database against it on every engine.
 */
export const TABLES: TableSpec[] = [
  ...TABLES_V1.map((t) =>
    t.name === 'server_tasks'
      ? {
          ...t,
          indexes: [
            ...(t.indexes ?? []),
            { name: 'ix_server_tasks_space_queue', columns: ['space_id', 'queue_time'] },
          ],
        }
      : t,
  ),
  ...PORTAL_TABLES_V3,
];

const TABLE_BY_NAME = new Map(TABLES.map((t) => [t.name, t]));

export function tableSpec(name: string): TableSpec {
  const t = TABLE_BY_NAME.get(name);
  if (!t) throw new Error(`Unknown table ${name}`);
  return t;
}
