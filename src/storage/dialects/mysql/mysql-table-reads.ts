import type { TableReads } from '../table-reads.js';

/**
 * MySQL is read page by page with keyset pagination, rows encoded in JavaScript; natural order is
 * InnoDB's clustered primary key, so it pages by key.
 */
export const mysqlTableReads: TableReads = {
  naturalOrderByRowid: false,
  answersSynchronously: false,
};
